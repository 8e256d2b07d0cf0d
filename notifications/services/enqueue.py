"""Writing the outbox: a published event becomes one row per channel, in the publisher's
transaction."""

import json
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from core.events import Notice
from notifications.catalogue import policy_for
from notifications.channels import CHANNELS
from notifications.models import NotificationStatus
from notifications.selectors import marketing_opted_out_ids
from notifications.timing import sms_send_at

logger = logging.getLogger(__name__)

DISPATCH_TASK = "notifications.dispatch"
SWEEP_TASK = "notifications.sweep"

# After the broker refused a publish, skip publishing for this long: the rows wait for the
# sweeper anyway, and a request should not pay a failed connection attempt every time.
BROKER_PAUSE_SECONDS = 15.0
_broker_paused_until = 0.0


def broker_send(task_name: str, countdown: float | None = None, **kwargs) -> bool:
    """Best effort: publish a task now; False (and nothing raised) when the broker is down."""
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return False
    try:
        current_app.send_task(task_name, kwargs=kwargs, countdown=countdown, retry=False)
    except Exception:  # the broker is down: the sweeper sends these rows later
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker unavailable; %s waits for the sweeper", task_name, exc_info=True)
        return False
    return True


def dispatch_on_commit(ids: list[int]) -> None:
    """Kick the dispatch of these rows once the transaction commits; never raises into it."""
    if ids:
        transaction.on_commit(lambda: _kick(ids), robust=True)


class _KickWindow:
    """This process's kicks: the first commit's rows go at once (one task per batch); rows
    committed during the next NOTIFICATIONS_KICK_WINDOW_SECONDS wait for one sweep sent to
    run at the window's end, which dispatches everything due by then. Under load that is two
    publishes per window instead of one per commit; a quiet process still kicks at once."""

    ends = 0.0
    sweep_sent = False


def _kick(ids: list[int]) -> None:
    window = settings.NOTIFICATIONS_KICK_WINDOW_SECONDS
    started = time.monotonic()
    if started >= _KickWindow.ends:
        _KickWindow.ends, _KickWindow.sweep_sent = started + window, False
        for batch in _slices(ids, settings.NOTIFICATIONS_BATCH_SIZE):
            if not broker_send(DISPATCH_TASK, ids=batch):
                return  # the broker is down: the sweeper sends the rest
    elif not _KickWindow.sweep_sent:
        _KickWindow.sweep_sent = broker_send(SWEEP_TASK, countdown=_KickWindow.ends - started)


def first_attempt_at(*, event: str, channel: str, now: datetime) -> datetime | None:
    """When a new row may first be sent: never for the inbox (delivered by being written);
    after the quiet hours on a channel that keeps them, unless the event is urgent."""
    spec = CHANNELS[channel]
    if spec.is_inbox:
        return None
    if spec.quiet_hours and not policy_for(event).sent_at_once:
        return sms_send_at(now)
    return now


# One row per (notice, channel); `ON CONFLICT DO NOTHING` makes a replayed notice insert
# nothing (also when the same notice appears twice in one batch).
_INSERT = """
INSERT INTO notifications_notification (
    event, user_id, channel, template_key, context, dedupe_key, status, attempts,
    next_attempt_at, provider_message_id, sent_at, read_at, last_error, created_at
)
SELECT r.event, r.user_id, r.channel, lower(r.event), r.context, r.dedupe_key, r.status, 0,
       r.next_attempt_at, '', r.sent_at, NULL, '', %(now)s
FROM unnest(%(events)s::text[], %(users)s::bigint[], %(channels)s::text[],
            %(contexts)s::jsonb[], %(keys)s::text[], %(statuses)s::text[],
            %(next)s::timestamptz[], %(sent)s::timestamptz[])
     AS r(event, user_id, channel, context, dedupe_key, status, next_attempt_at, sent_at)
ON CONFLICT (dedupe_key, channel) DO NOTHING
RETURNING id, next_attempt_at
"""

# Rows per INSERT: large enough that a set-based step pays a few round trips, small enough
# that one statement's parameters stay a few megabytes.
INSERT_CHUNK_ROWS = 5000


# No savepoint: publishers call this inside their own transaction, and a failed INSERT
# aborts it anyway; alone, it is a transaction of its own (all chunks or none).
@transaction.atomic(savepoint=False)
def notifications_enqueue(*, notices: Sequence[Notice], now: datetime) -> list[int]:
    """Write the notices' rows (one per channel the customer can receive); a dedupe key seen
    before inserts nothing. In-app rows are delivered by being written (status SENT).

    Returns the new rows' ids, and kicks the dispatch of those due now on commit.
    """
    opted_out = marketing_opted_out_ids(
        user_ids={n.user.pk for n in notices if policy_for(n.event).marketing}
    )
    rows = [
        (notice, channel)
        for notice in notices
        for channel in _channels(notice, opted_out=opted_out)
    ]
    inserted: list[tuple[int, datetime | None]] = []
    with connection.cursor() as cursor:
        for chunk in _slices(rows, INSERT_CHUNK_ROWS):
            cursor.execute(_INSERT, _columns(chunk, now=now))
            inserted.extend(cursor.fetchall())
    dispatch_on_commit([pk for pk, at in inserted if at is not None and at <= now])
    return [pk for pk, _at in inserted]


def _slices(items: Sequence, size: int) -> list[Sequence]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _channels(notice: Notice, *, opted_out: set[int]) -> list[str]:
    policy = policy_for(notice.event)
    if policy.marketing and notice.user.pk in opted_out:
        return []
    return [c for c in policy.channels if CHANNELS[c].reaches(notice.user)]


def _columns(rows: Sequence[tuple[Notice, str]], *, now: datetime) -> dict:
    contexts: dict[int, str] = {}  # a notice's context is serialised once for all its channels

    def context_json(notice: Notice) -> str:
        key = id(notice)
        if key not in contexts:
            contexts[key] = json.dumps(notice.context, cls=DjangoJSONEncoder)
        return contexts[key]

    deliveries = [_delivery(notice.event, channel, now) for notice, channel in rows]
    return {
        "now": now,
        "events": [str(notice.event) for notice, _channel in rows],
        "users": [notice.user.pk for notice, _channel in rows],
        "channels": [str(channel) for _notice, channel in rows],
        "contexts": [context_json(notice) for notice, _channel in rows],
        "keys": [notice.dedupe_key for notice, _channel in rows],
        "statuses": [status for status, _next, _sent in deliveries],
        "next": [next_attempt for _status, next_attempt, _sent in deliveries],
        "sent": [sent for _status, _next, sent in deliveries],
    }


def _delivery(
    event: str, channel: str, now: datetime
) -> tuple[str, datetime | None, datetime | None]:
    """A new row's (status, next attempt, sent at): inbox rows are delivered by being written."""
    if CHANNELS[channel].is_inbox:
        return NotificationStatus.SENT, None, now
    return NotificationStatus.PENDING, first_attempt_at(event=event, channel=channel, now=now), None


# The rows of a set-based step's notices: the publisher's SELECT joined with the channels of
# each event, in one statement. Rows go in in dedupe-key order (publishers start their keys
# with the zero-padded account), so the unique index grows at its right edge.
_INSERT_SELECTED = """
WITH notices AS ({select}),
routes AS (
    SELECT * FROM unnest(%(route_events)s::text[], %(route_channels)s::text[],
                         %(route_statuses)s::text[], %(route_next)s::timestamptz[],
                         %(route_sent)s::timestamptz[])
         AS r(event, channel, status, next_attempt_at, sent_at)
)
INSERT INTO notifications_notification (
    event, user_id, channel, template_key, context, dedupe_key, status, attempts,
    next_attempt_at, provider_message_id, sent_at, read_at, last_error, created_at
)
SELECT n.event, n.user_id, r.channel, lower(n.event), n.context, n.dedupe_key, r.status, 0,
       r.next_attempt_at, '', r.sent_at, NULL, '', %(route_now)s
FROM notices AS n
JOIN routes AS r ON r.event = n.event
JOIN accounts_user AS u ON u.id = n.user_id
WHERE {reachable}
ORDER BY n.dedupe_key, r.channel
ON CONFLICT (dedupe_key, channel) DO NOTHING
"""


def _reachable_sql(channels: set[str]) -> tuple[str, dict]:
    """`_INSERT_SELECTED`'s filter, as `ChannelSpec.reaches` in SQL: a route `r` to user `u`
    on a channel with an address only when the user has one. An address field the model
    never leaves blank (the phone) needs no test, which keeps it off the reminders' hot path."""
    conditions, params = [], {}
    for index, channel in enumerate(sorted(channels)):
        spec = CHANNELS[channel]
        field = None if spec.is_inbox else get_user_model()._meta.get_field(spec.address)
        if field is None or not field.blank:
            continue
        column = connection.ops.quote_name(field.column)
        conditions.append(f"(r.channel <> %(route_address_{index})s OR u.{column} <> '')")
        params[f"route_address_{index}"] = channel
    return " AND ".join(conditions) or "TRUE", params


@transaction.atomic(savepoint=False)
def notifications_enqueue_selected(
    *, select: str, params: dict, events: Iterable[str], now: datetime
) -> int:
    """Write the rows of the notices `select` yields (see core.events.publish_select); a dedupe
    key seen before inserts nothing. The sweeper sends them (kicked on commit)."""
    routes = [(event, channel) for event in events for channel in policy_for(event).channels]
    if any(policy_for(event).marketing for event, _channel in routes):
        raise ValueError("publish_select carries required notices only (no opt-out handling)")
    deliveries = [_delivery(event, channel, now) for event, channel in routes]
    reachable, reachable_params = _reachable_sql({channel for _event, channel in routes})
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_SELECTED.format(select=select, reachable=reachable),
            {
                **params,
                "route_events": [str(event) for event, _channel in routes],
                "route_channels": [str(channel) for _event, channel in routes],
                "route_statuses": [status for status, _next, _sent in deliveries],
                "route_next": [next_attempt for _status, next_attempt, _sent in deliveries],
                "route_sent": [sent for _status, _next, sent in deliveries],
                "route_now": now,
                **reachable_params,
            },
        )
        written = cursor.rowcount
    if written:
        transaction.on_commit(lambda: broker_send(SWEEP_TASK), robust=True)
    return written
