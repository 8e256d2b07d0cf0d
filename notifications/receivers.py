"""The one consumer of `core.events`' signals: published notices become outbox rows."""

from django.dispatch import receiver

from core.events import events_published, notices_selected
from notifications.services import notifications_enqueue, notifications_enqueue_selected


@receiver(events_published, dispatch_uid="notifications.enqueue_published_events")
def enqueue_published_events(sender, *, notices, now, **kwargs):
    notifications_enqueue(notices=notices, now=now)


@receiver(notices_selected, dispatch_uid="notifications.enqueue_selected_notices")
def enqueue_selected_notices(sender, *, select, params, events, now, **kwargs) -> int:
    return notifications_enqueue_selected(select=select, params=params, events=events, now=now)
