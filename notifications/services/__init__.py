"""Notification use cases. Other apps publish events through `core.events` (`publish`,
`publish_many`, `publish_select`); they never write rows themselves."""

from notifications.services.dispatch import (
    DispatchReport,
    notifications_dispatch,
    notifications_due_batches,
)
from notifications.services.enqueue import notifications_enqueue, notifications_enqueue_selected
from notifications.services.errors import (
    AlreadyOnItsWay,
    InAppNotResendable,
    NotificationError,
    NotificationNotFound,
    NotResendable,
)
from notifications.services.inbox import (
    notification_mark_read,
    notification_resend,
    notifications_mark_all_read,
    preference_marketing_set,
)

__all__ = [
    "AlreadyOnItsWay",
    "DispatchReport",
    "InAppNotResendable",
    "NotResendable",
    "NotificationError",
    "NotificationNotFound",
    "notification_mark_read",
    "notification_resend",
    "notifications_dispatch",
    "notifications_due_batches",
    "notifications_enqueue",
    "notifications_enqueue_selected",
    "notifications_mark_all_read",
    "preference_marketing_set",
]
