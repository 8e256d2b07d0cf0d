"""Sending the outbox: claim due rows, call the providers, record what happened.

One call handles one batch in three steps, so no transaction stays open while a provider
is called:

1. claim (one transaction): lock due rows with `FOR UPDATE SKIP LOCKED` (concurrent workers
   take different rows), push rows that fall in the quiet hours to their end, expire rows
   past their use (EXPIRED: a stale confirmation, a reminder of something paid or out of
   date), hold back rows beyond the customer's daily cap or its room kept for more important
   classes (SKIPPED), on the channels whose entry in `notifications.channels` says so (SMS),
   and mark the rest SENDING with a lease — `next_attempt_at` becomes the lease's end and
   `attempts` goes up by one. A held row says why (`skip_reason`, details in `last_error`);
   its in-app copy stays in the inbox;
2. send, outside any transaction: render each row in its recipient's language and hand the
   batch to the channel's provider, addressed as the channel's entry says, with the row id
   as idempotency key (an email's Message-ID is `<notification-{id}@{domain}>`);
3. record, step by step: as soon as the provider is done with a step — one message for a
   per-message API (email, the HTTP gateway), the whole batch for a bulk API that sends all
   or nothing (the sandbox) — its outcome is committed, before the next message goes: SENT
   with the provider's message id, or FAILED with the next attempt after exponential
   backoff, or DEAD after the last attempt. A row is updated only if it is still SENDING under
   the same attempt number: a worker whose lease ran out and whose row was claimed again
   cannot overwrite the newer claim.

A worker that dies between 1 and 3 leaves SENDING rows; once their lease has run out they
are due again and the next claim takes them. Every message recorded before the crash is
SENT and never offered again. Only the one step under way when the worker died — sent, maybe,
but not recorded — is offered again, under the same idempotency key: the SMS gateway sends
nothing the second time, and an email goes out again with the same Message-ID, which the
receiving server may use to drop the copy (SMTP itself has no idempotency key, so at most one
email per crashed worker can reach a mailbox twice).

The daily SMS cap is enforced here, at claim time, rather than at enqueue: the day an SMS
counts against is the day it goes out (quiet hours and retries move it), an SMS that failed
should not use up the allowance, and the check then covers every path that writes SMS rows
(publish, set-based reminders, staff resends) without adding locks to the callers'
transactions. Claimers take a per-customer advisory lock before counting, so two workers
cannot both send the customer's fifth SMS.
"""

import itertools
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.template import TemplateDoesNotExist

from core.events import PendingNotice, notices_expired
from notifications.catalogue import URGENT_EVENTS, Priority, priority_for
from notifications.channels import CHANNELS, capped_channels, inbox_channels
from notifications.models import CLAIMABLE_STATUSES, Notification, NotificationStatus, SkipReason
from notifications.providers import OutgoingMessage, SendResult, provider_for
from notifications.rendering import notice_render
from notifications.timing import local_day_start, local_zone, retry_delay, sms_send_at

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(namespace, customer): serialises SMS-cap checks per customer.
SMS_CAP_LOCK_NAMESPACE = 0x6E6F7469  # "noti"


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    skipped: int = 0
    expired: int = 0
    claimed_ids: list[int] = field(default_factory=list)


def due_notifications(*, now: datetime):
    return Notification.objects.filter(
        status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now
    ).exclude(channel__in=inbox_channels())


def notifications_due_batches(*, now: datetime, max_batches: int = 1000) -> int:
    """How many batches the due rows fill (at most `max_batches`): the sweeper's fan-out."""
    batch = settings.NOTIFICATIONS_BATCH_SIZE
    due = due_notifications(now=now).values("pk")[: batch * max_batches].count()
    return -(-due // batch)


def notifications_dispatch(
    *, now: datetime, ids: list[int] | None = None, batch_size: int | None = None
) -> DispatchReport:
    """Claim one batch of due rows (only `ids`, if given), send it, record the outcome."""
    report = DispatchReport()
    claimed = _claim(
        now=now, ids=ids, limit=batch_size or settings.NOTIFICATIONS_BATCH_SIZE, report=report
    )
    # Each step is recorded (and committed) as soon as the provider is done with it, before
    # the next is sent: a worker that dies mid-batch leaves at most that one step sent but
    # unrecorded (see the module docstring).
    for outcomes in _send(claimed):
        _record(outcomes, now=now, report=report)
    return report


def _waits_for_quiet_hours(row: Notification) -> bool:
    """On a channel that keeps the quiet hours, and not urgent (login codes go at once)."""
    return CHANNELS[row.channel].quiet_hours and row.event not in URGENT_EVENTS


def _is_capped(row: Notification) -> bool:
    """On a channel with a daily cap, and not urgent (login codes are neither held nor counted)."""
    return CHANNELS[row.channel].daily_cap_setting is not None and row.event not in URGENT_EVENTS


@transaction.atomic
def _claim(*, now, ids, limit, report: DispatchReport) -> list[Notification]:
    rows = due_notifications(now=now)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    rows = list(
        rows.select_related("user")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_attempt_at", "pk")[:limit]
    )
    if not rows:
        return []

    quiet_until = sms_send_at(now)
    deferred = [r for r in rows if _waits_for_quiet_hours(r) and quiet_until > now]
    candidates = [r for r in rows if not (_waits_for_quiet_hours(r) and quiet_until > now)]
    expired = _past_use(candidates, now=now)
    candidates = [r for r in candidates if r.pk not in expired]
    skipped = _over_daily_cap([r for r in candidates if _is_capped(r)], now=now)
    claimed = [r for r in candidates if r.pk not in skipped]

    with connection.cursor() as cursor:
        if deferred:
            cursor.execute(
                "UPDATE notifications_notification SET next_attempt_at = %s WHERE id = ANY(%s)",
                [quiet_until, [r.pk for r in deferred]],
            )
        held = [
            (pk, status, reason, detail)
            for status, why in (
                (NotificationStatus.EXPIRED, expired),
                (NotificationStatus.SKIPPED, skipped),
            )
            for pk, (reason, detail) in why.items()
        ]
        if held:
            cursor.execute(
                "UPDATE notifications_notification AS n "
                "SET status = v.status, skip_reason = v.reason, last_error = v.detail, "
                "next_attempt_at = NULL "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) "
                "AS v(id, status, reason, detail) WHERE n.id = v.id",
                [list(column) for column in zip(*held, strict=True)],
            )
        if claimed:
            lease_until = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)
            cursor.execute(
                "UPDATE notifications_notification "
                "SET status = %s, attempts = attempts + 1, next_attempt_at = %s WHERE id = ANY(%s)",
                [NotificationStatus.SENDING, lease_until, [r.pk for r in claimed]],
            )
    for row in claimed:
        row.attempts += 1
        row.status = NotificationStatus.SENDING
    report.deferred, report.skipped, report.expired = len(deferred), len(skipped), len(expired)
    report.claimed_ids = [r.pk for r in claimed]
    return claimed


def _past_use(rows: list[Notification], *, now) -> dict[int, tuple[str, str]]:
    """{id: (reason, detail)} of the rows that should no longer go out: a confirmation older
    than NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS, and whatever the app that published a
    notice says is past its use (`core.events.notices_past_use`: the due reminders). A row
    being sent already (a lease that ran out) is the provider's: it is not expired."""
    fresh = [r for r in rows if r.status != NotificationStatus.SENDING]
    max_age = timedelta(hours=settings.NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS)
    zone = local_zone()
    past = {
        r.pk: (
            SkipReason.STALE_CONFIRMATION,
            f"confirmation written {r.created_at.astimezone(zone):%Y-%m-%d %H:%M}, more than "
            f"{settings.NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS} h before it could go out; "
            "the in-app notice carries it",
        )
        for r in fresh
        if priority_for(r.event) == Priority.CONFIRMATION and r.created_at < now - max_age
    }
    asked = [PendingNotice(r.pk, r.event, r.context) for r in fresh if r.pk not in past]
    for pk, detail in notices_expired(notices=asked, now=now).items():
        past[pk] = (SkipReason.PAST_USE, detail)
    return past


def _cap_ceilings(channel: str) -> dict[Priority, int]:
    """How much of the channel's daily cap each class may use: the cap, less the room kept
    for the classes above it (`ChannelSpec.cap_reserved_setting`)."""
    spec = CHANNELS[channel]
    cap = getattr(settings, spec.daily_cap_setting)
    reserved = getattr(settings, spec.cap_reserved_setting, None) or {}
    ceilings, kept = {}, 0
    for priority in Priority:
        ceilings[priority] = max(cap - kept, 0)
        kept += int(reserved.get(priority.name, 0))
    return ceilings


def _over_daily_cap(capped_rows: list[Notification], *, now) -> dict[int, tuple[str, str]]:
    """{id: (reason, detail)} of the rows the customer's daily cap holds back. A customer's
    rows are served most important first (`Priority`), then oldest first; a class may only
    fill the cap up to its ceiling (`_cap_ceilings`), so the room kept for the classes above
    it stays free for the rest of the day."""
    if not capped_rows:
        return {}
    users = sorted({r.user_id for r in capped_rows})
    with connection.cursor() as cursor:
        # Sorted, so two claimers lock customers in the same order and cannot deadlock.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, (uid %% 2147483647)::int) "
            "FROM (SELECT unnest(%s::bigint[]) AS uid ORDER BY 1) AS customers",
            [SMS_CAP_LOCK_NAMESPACE, users],
        )
        cursor.execute(
            "SELECT user_id, channel, count(*) FROM notifications_notification "
            "WHERE channel = ANY(%s) AND user_id = ANY(%s) AND NOT (event = ANY(%s)) "
            "AND NOT (id = ANY(%s)) AND (status = %s OR (status = %s AND sent_at >= %s)) "
            "GROUP BY user_id, channel",
            [
                capped_channels(),
                users,
                list(URGENT_EVENTS),
                [r.pk for r in capped_rows],
                NotificationStatus.SENDING,
                NotificationStatus.SENT,
                local_day_start(now),
            ],
        )
        used = Counter({(user, channel): count for user, channel, count in cursor.fetchall()})
    ceilings = {channel: _cap_ceilings(channel) for channel in {r.channel for r in capped_rows}}
    over = {}
    for row in sorted(capped_rows, key=lambda r: (priority_for(r.event), r.created_at, r.pk)):
        priority = priority_for(row.event)
        cap, ceiling = ceilings[row.channel][Priority.SECURITY], ceilings[row.channel][priority]
        count = used[row.user_id, row.channel]
        if count >= cap:
            over[row.pk] = (
                SkipReason.DAILY_CAP,
                f"daily {row.channel} cap of {cap} reached; the in-app notice carries it",
            )
        elif count >= ceiling:
            over[row.pk] = (
                SkipReason.RESERVED_ROOM,
                f"{count} of the daily {row.channel} cap of {cap} used; the last {cap - ceiling} "
                f"are kept for notices more important than a {priority.name.lower()}; "
                "the in-app notice carries it",
            )
        else:
            used[row.user_id, row.channel] += 1
    return over


def _send(rows: list[Notification]) -> Iterator[list[tuple[Notification, SendResult]]]:
    """Send the claimed rows, yielding each step's outcomes as soon as the provider is done
    with it (one message for a per-message API, the batch for a bulk one)."""
    by_channel = itertools.groupby(sorted(rows, key=lambda r: r.channel), key=lambda r: r.channel)
    for channel, group in by_channel:
        ready, messages, unsendable = [], [], []
        for row in group:
            message = _message(row)
            if isinstance(message, SendResult):
                unsendable.append((row, message))
            else:
                ready.append(row)
                messages.append(message)
        if unsendable:
            yield unsendable
        if messages:
            pending = iter(ready)
            for step in provider_for(channel).send_steps(messages):
                yield list(zip(itertools.islice(pending, len(step)), step, strict=True))


def _message(row: Notification) -> OutgoingMessage | SendResult:
    """The row as the provider gets it, or a permanent failure if it cannot be built."""
    to = CHANNELS[row.channel].recipient(row.user)
    if not to:
        return SendResult(error=f"recipient has no {row.channel.lower()} address", permanent=True)
    try:
        rendered = notice_render(
            channel=row.channel,
            template_key=row.template_key,
            language=row.user.preferred_language,
            context=row.context,
        )
    except TemplateDoesNotExist as exc:
        return SendResult(error=f"no template {exc}", permanent=True)
    return OutgoingMessage(
        idempotency_key=str(row.pk), to=to, subject=rendered.subject, body=rendered.body
    )


def _next_attempt(row: Notification, *, now) -> datetime:
    at = now + retry_delay(row.attempts)
    return sms_send_at(at) if _waits_for_quiet_hours(row) else at


@transaction.atomic
def _record(outcomes, *, now, report: DispatchReport) -> None:
    sent = [(row, result) for row, result in outcomes if result.ok]
    failed = [(row, result) for row, result in outcomes if not result.ok]
    with connection.cursor() as cursor:
        if sent:
            cursor.execute(
                "UPDATE notifications_notification AS n SET status = %s, sent_at = %s, "
                "next_attempt_at = NULL, provider_message_id = v.message_id, last_error = '' "
                "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, attempts, message_id) "
                "WHERE n.id = v.id AND n.attempts = v.attempts AND n.status = %s",
                [
                    NotificationStatus.SENT,
                    now,
                    [row.pk for row, _r in sent],
                    [row.attempts for row, _r in sent],
                    [result.message_id for _row, result in sent],
                    NotificationStatus.SENDING,
                ],
            )
            report.sent += cursor.rowcount
        if failed:
            statuses, next_at = [], []
            for row, result in failed:
                dead = result.permanent or row.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS
                statuses.append(NotificationStatus.DEAD if dead else NotificationStatus.FAILED)
                next_at.append(None if dead else _next_attempt(row, now=now))
                logger.warning(
                    "notification %s attempt %s failed: %s", row.pk, row.attempts, result.error
                )
            cursor.execute(
                "UPDATE notifications_notification AS n "
                "SET status = v.status, next_attempt_at = v.next_at, last_error = v.error "
                "FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::timestamptz[], %s::text[]) "
                "AS v(id, attempts, status, next_at, error) "
                "WHERE n.id = v.id AND n.attempts = v.attempts AND n.status = %s",
                [
                    [row.pk for row, _r in failed],
                    [row.attempts for row, _r in failed],
                    statuses,
                    next_at,
                    [result.error[:2000] for _row, result in failed],
                    NotificationStatus.SENDING,
                ],
            )
            dead = statuses.count(NotificationStatus.DEAD)
            report.dead += dead
            report.failed += len(statuses) - dead
