"""Notification use cases. Other apps call `reminders_generate` (the servicing close) and
publish events through `core.events.publish` / `publish_many`; they never write rows themselves."""

from notifications.services.dispatch import (
    DispatchReport,
    notifications_dispatch,
    notifications_due_batches,
)
from notifications.services.enqueue import notifications_enqueue
from notifications.services.errors import (
    AlreadyOnItsWay,
    InAppNotResendable,
    NotificationError,
    NotificationNotFound,
    NotResendable,
    ReminderDateInFuture,
)
from notifications.services.inbox import (
    notification_mark_read,
    notification_resend,
    notifications_mark_all_read,
    preference_marketing_set,
)
from notifications.services.reminders import REMINDER_RULES, reminders_generate

__all__ = [
    "REMINDER_RULES",
    "AlreadyOnItsWay",
    "DispatchReport",
    "InAppNotResendable",
    "NotResendable",
    "NotificationError",
    "NotificationNotFound",
    "ReminderDateInFuture",
    "notification_mark_read",
    "notification_resend",
    "notifications_dispatch",
    "notifications_due_batches",
    "notifications_enqueue",
    "notifications_mark_all_read",
    "preference_marketing_set",
    "reminders_generate",
]
