"""What customers and staff do with notices: read them, choose what to hear, resend them."""

from datetime import datetime

from django.db import transaction

from core.permissions import permission_require
from notifications.channels import CHANNELS
from notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    NotificationResend,
    NotificationStatus,
)
from notifications.services.enqueue import dispatch_on_commit, first_attempt_at
from notifications.services.errors import (
    AlreadyOnItsWay,
    InAppNotResendable,
    NotificationNotFound,
)

RESEND_PERMISSION = "notifications.resend_notification"


@transaction.atomic
def notification_mark_read(*, user, notification_id: int, now: datetime) -> Notification:
    """Mark one of the user's in-app notices read (again: nothing changes)."""
    try:
        notice = Notification.objects.select_for_update().get(
            pk=notification_id, user=user, channel=Channel.IN_APP
        )
    except Notification.DoesNotExist as exc:
        raise NotificationNotFound() from exc
    if notice.read_at is None:
        notice.read_at = now
        notice.save(update_fields=["read_at"])
    return notice


@transaction.atomic
def notifications_mark_all_read(*, user, now: datetime) -> int:
    return Notification.objects.filter(
        user=user, channel=Channel.IN_APP, read_at__isnull=True
    ).update(read_at=now)


@transaction.atomic
def preference_marketing_set(*, user, opted_out: bool, now: datetime) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"marketing_opt_out": opted_out, "updated_at": now}
    )
    return preference


@transaction.atomic
def notification_resend(*, notification: Notification, actor, now: datetime) -> Notification:
    """Staff resend: send a notice again, keeping the original's record.

    - FAILED, DEAD, SKIPPED or EXPIRED: the same row is queued again from attempt one. It keeps its
      idempotency key, so if a provider had in fact accepted it, nothing goes out twice.
    - SENT: a new row (a copy pointing at the original) with its own idempotency key, because
      the provider would rightly refuse to send the same key again.
    - PENDING or SENDING is already on its way; in-app notices are in the inbox: refused.
    The daily SMS cap, its reserved room, the quiet hours and expiry still apply to what
    staff resend (a reminder of something paid expires again).
    """
    permission_require(actor, RESEND_PERMISSION)
    row = Notification.objects.select_for_update().get(pk=notification.pk)
    if CHANNELS[row.channel].is_inbox:
        raise InAppNotResendable()
    if row.status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
        raise AlreadyOnItsWay()
    next_attempt = first_attempt_at(event=row.event, channel=row.channel, now=now)
    original = row
    if row.status == NotificationStatus.SENT:
        copies = NotificationResend.objects.filter(notification=row, copy__isnull=False).count()
        row = Notification.objects.create(
            event=row.event,
            user_id=row.user_id,
            channel=row.channel,
            template_key=row.template_key,
            context=row.context,
            dedupe_key=f"{row.dedupe_key}:resend:{copies + 1}",
            next_attempt_at=next_attempt,
            created_at=now,
        )
    else:
        row.status = NotificationStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = next_attempt
        row.last_error = ""
        row.skip_reason = ""
        row.save(
            update_fields=["status", "attempts", "next_attempt_at", "last_error", "skip_reason"]
        )
    NotificationResend.objects.create(
        notification=original,
        copy=row if row is not original else None,
        actor=actor,
        created_at=now,
    )
    if next_attempt <= now:
        dispatch_on_commit([row.pk])
    return row
