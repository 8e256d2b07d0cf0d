"""Writing the outbox: a published event becomes one row per channel, in the publisher's
transaction."""

import json
import logging
import time
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from notifications.catalogue import policy_for
from notifications.models import Channel, NotificationStatus
from notifications.selectors import marketing_opted_out
from notifications.timing import sms_send_at

logger = logging.getLogger(__name__)

DISPATCH_TASK = "notifications.dispatch"
SWEEP_TASK = "notifications.sweep"

# After the broker refused a publish, skip publishing for this long: the rows wait for the
# sweeper anyway, and a request should not pay a failed connection attempt every time.
BROKER_PAUSE_SECONDS = 15.0
_broker_paused_until = 0.0


def broker_send(task_name: str, **kwargs) -> bool:
    """Best effort: publish a task now; False (and nothing raised) when the broker is down."""
    global _broker_paused_until
    if time.monotonic() < _broker_paused_until:
        return False
    from config.celery import app

    try:
        app.send_task(task_name, kwargs=kwargs, retry=False)
    except Exception:  # the broker is down: the sweeper sends these rows later
        _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        logger.warning("broker unavailable; %s waits for the sweeper", task_name, exc_info=True)
        return False
    return True


def dispatch_on_commit(ids: list[int]) -> None:
    """Kick a dispatch of these rows once the transaction commits; never raises into it."""
    if ids:
        transaction.on_commit(lambda: broker_send(DISPATCH_TASK, ids=ids), robust=True)


def channels_for(*, event: str, user) -> list[str]:
    policy = policy_for(event)
    if policy.marketing and marketing_opted_out(user=user):
        return []
    return [c for c in policy.channels if c != Channel.EMAIL or user.email]


def first_attempt_at(*, event: str, channel: str, now: datetime) -> datetime | None:
    """When a new row may first be sent: SMS waits out the quiet hours unless urgent."""
    if channel == Channel.IN_APP:
        return None
    if channel == Channel.SMS and not policy_for(event).urgent:
        return sms_send_at(now)
    return now


# One row per channel; `ON CONFLICT DO NOTHING` makes a replayed event insert nothing.
_INSERT = """
INSERT INTO notifications_notification (
    event, user_id, channel, template_key, context, dedupe_key, status, attempts,
    next_attempt_at, provider_message_id, sent_at, read_at, last_error, created_at
)
SELECT %(event)s, %(user)s, c.channel, %(template_key)s, %(context)s::jsonb, %(dedupe_key)s,
       c.status, 0, c.next_attempt_at, '', c.sent_at, NULL, '', %(now)s
FROM unnest(%(channels)s::text[], %(statuses)s::text[], %(next)s::timestamptz[],
            %(sent)s::timestamptz[]) AS c(channel, status, next_attempt_at, sent_at)
ON CONFLICT (dedupe_key, channel) DO NOTHING
RETURNING id, next_attempt_at
"""


@transaction.atomic
def notification_enqueue(
    *,
    event: str,
    user,
    context: dict,
    dedupe_key: str,
    now: datetime,
    template_key: str | None = None,
) -> list[int]:
    """Write the event's rows (one per channel); a dedupe key seen before inserts nothing.

    In-app rows are delivered by being written (status SENT). Returns the new rows' ids.
    """
    channels = channels_for(event=event, user=user)
    if not channels:
        return []
    in_app = [channel == Channel.IN_APP for channel in channels]
    params = {
        "event": event,
        "user": user.pk,
        "template_key": template_key or event.lower(),
        "context": json.dumps(context, cls=DjangoJSONEncoder),
        "dedupe_key": dedupe_key,
        "now": now,
        "channels": channels,
        "statuses": [
            NotificationStatus.SENT if done else NotificationStatus.PENDING for done in in_app
        ],
        "next": [first_attempt_at(event=event, channel=c, now=now) for c in channels],
        "sent": [now if done else None for done in in_app],
    }
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, params)
        inserted = cursor.fetchall()
    dispatch_on_commit([pk for pk, at in inserted if at is not None and at <= now])
    return [pk for pk, _at in inserted]
