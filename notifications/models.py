from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.phone import phone_masked
from core.events import EventType


class Channel(models.TextChoices):
    SMS = "SMS", _("SMS")
    EMAIL = "EMAIL", _("Email")
    IN_APP = "IN_APP", _("In-app")


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting to be sent")
    SENDING = "SENDING", _("Being sent")
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed, will retry")
    DEAD = "DEAD", _("Gave up")
    # Not sent by rule, not by fault: the daily SMS cap held it back (the in-app copy stays).
    SKIPPED = "SKIPPED", _("Not sent (daily SMS cap)")
    # Not sent because it was past its use when its turn came: a reminder of something paid
    # or out of date, a stale confirmation (the in-app copy stays).
    EXPIRED = "EXPIRED", _("Not sent (past its use)")


# Rows held back by rule; `skip_reason` says which rule (and `last_error` the details).
HELD_STATUSES = (NotificationStatus.SKIPPED, NotificationStatus.EXPIRED)


class SkipReason(models.TextChoices):
    """Why a row was not sent (SKIPPED or EXPIRED); empty for every other row."""

    DAILY_CAP = "DAILY_CAP", _("Daily cap reached")
    RESERVED_ROOM = "RESERVED_ROOM", _("Cap room kept for more important notices")
    PAST_USE = "PAST_USE", _("Reminder paid or out of date")
    STALE_CONFIRMATION = "STALE_CONFIRMATION", _("Confirmation too old for SMS or email")


# Rows the dispatcher may claim once `next_attempt_at` has passed. For SENDING rows that
# column is the end of the claim's lease: past it, the worker is presumed dead.
CLAIMABLE_STATUSES = (
    NotificationStatus.PENDING,
    NotificationStatus.FAILED,
    NotificationStatus.SENDING,
)


class Notification(models.Model):
    """The outbox: one row per notice per channel, written in the transaction of the event."""

    event = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    # No database-level foreign key: the reminder run writes a million rows in one statement,
    # and a per-row deferred check (which also locks each recipient's row) more than doubled
    # its time. Rows are only ever written for existing users by this app's services; a user
    # deleted through Django takes their notices along (on_delete runs in Django).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_constraint=False,
        db_index=False,
    )
    # Room for channel names such as WECHAT_MP (the registry is notifications/channels.py).
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    template_key = models.CharField(_("template"), max_length=64)
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Unique per channel: publishing the same notice twice (a replay) inserts nothing new.
    # Byte-order collation: the unique index is probed once per reminder row.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, db_collation="C")
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # A database default: the outbox's set-based INSERTs do not name the column.
    skip_reason = models.CharField(
        _("why not sent"), max_length=20, choices=SkipReason.choices, blank=True, db_default=""
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        permissions = [("resend_notification", _("Can resend notifications"))]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key", "channel"], name="notification_dedupe_per_channel"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=CLAIMABLE_STATUSES) | Q(next_attempt_at__isnull=False),
                name="notification_claimable_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENT) | Q(sent_at__isnull=False),
                name="notification_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=Q(read_at__isnull=True) | Q(channel=Channel.IN_APP),
                name="notification_only_in_app_is_read",
            ),
            # Nothing is dropped silently: a row held back says why, and only such a row.
            models.CheckConstraint(
                condition=(Q(status__in=HELD_STATUSES) & ~Q(skip_reason=""))
                | (~Q(status__in=HELD_STATUSES) & Q(skip_reason="")),
                name="notification_held_says_why",
            ),
        ]
        indexes = [
            # The dispatcher's claim: due rows only, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=CLAIMABLE_STATUSES),
                name="notification_due",
            ),
            # A recipient's notices: the inbox, its unread badge, the daily SMS count.
            models.Index(fields=["user", "created_at"], name="notification_user_time"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.event} → {self.user_id} by {self.channel} [{self.status}]"


class NotificationResend(models.Model):
    """Audit of a staff resend: who asked, when, for which notice, and the copy it made."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="resends")
    # A SENT notice is sent again as a new row (its own idempotency key); a DEAD, FAILED or
    # SKIPPED one is queued again as itself (copy is empty).
    copy = models.OneToOneField(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="copy_of"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notification_resends"
    )
    created_at = models.DateTimeField(_("resent at"))

    class Meta:
        verbose_name = _("notification resend")
        verbose_name_plural = _("notification resends")

    def __str__(self):
        return (
            f"#{self.notification_id} resent by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"
        )


class NotificationPreference(models.Model):
    """What a customer chose to hear. Only marketing can be switched off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    marketing_opt_out = models.BooleanField(_("no offers or campaigns"), default=False)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user_id}: marketing {'off' if self.marketing_opt_out else 'on'}"


class SandboxSms(models.Model):
    """Every SMS the sandbox provider "sent": one row per idempotency key, calls counted.

    Stands in for an SMS gateway in development and tests: a second call with the same key
    sends nothing and answers with the first message's id, as a real gateway would.
    """

    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    message_id = models.CharField(_("message id"), max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=20)
    text = models.TextField(_("text"))
    segments = models.PositiveSmallIntegerField(_("segments"))
    calls = models.PositiveIntegerField(_("calls"), default=1)
    created_at = models.DateTimeField(_("first sent at"))
    last_called_at = models.DateTimeField(_("last called at"))

    class Meta:
        verbose_name = _("sandbox SMS")
        verbose_name_plural = _("sandbox SMS")

    def __str__(self):
        return f"{self.message_id} → {phone_masked(self.phone)}"
