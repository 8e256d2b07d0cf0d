"""Back office: the outbox (read-only, with a resend action; each row not sent says why),
preferences, the SMS sandbox."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.pii import masked_phone
from core.admin import ReadOnlyAdmin
from notifications import services
from notifications.models import (
    Notification,
    NotificationPreference,
    NotificationResend,
    SandboxSms,
)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "event",
        "user",
        "channel",
        "status",
        "why",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "skip_reason", "channel", "event"]
    search_fields = ["user__phone", "dedupe_key", "provider_message_id"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    actions = ["resend"]

    @admin.display(description=_("why not sent"), ordering="skip_reason")
    def why(self, obj):
        """A row held back by rule: which rule and its details; a failed one: the error."""
        if obj.skip_reason:
            return f"{obj.get_skip_reason_display()}: {obj.last_error}"
        return obj.last_error

    @admin.action(description=_("Resend the selected notifications"), permissions=["resend"])
    def resend(self, request, queryset):
        resent, refused = 0, []
        now = timezone.now()
        for notification in queryset.order_by("pk"):
            try:
                services.notification_resend(notification=notification, actor=request.user, now=now)
                resent += 1
            except services.NotResendable as exc:
                refused.append(f"#{notification.pk}: {exc}")
        if resent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification queued to be sent again.",
                    "%(count)d notifications queued to be sent again.",
                    resent,
                )
                % {"count": resent},
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.resend_notification")


@admin.register(NotificationResend)
class NotificationResendAdmin(ReadOnlyAdmin):
    list_display = ["notification", "copy", "actor", "created_at"]
    list_select_related = ["notification", "copy", "actor"]
    raw_id_fields = ["notification", "copy", "actor"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "marketing_opt_out", "updated_at"]
    list_filter = ["marketing_opt_out"]
    search_fields = ["user__phone"]
    list_select_related = ["user"]


@admin.register(SandboxSms)
class SandboxSmsAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "to", "text", "segments", "calls", "created_at"]
    search_fields = ["phone", "idempotency_key", "message_id"]
    exclude = ["phone"]
    readonly_fields = ["to"]

    # Our SMS texts carry no phone number (risk notices mask the ones they mention).
    to = staticmethod(masked_phone)
