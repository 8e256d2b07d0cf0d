"""The one consumer of `core.events.events_published`: notices become outbox rows."""

from django.dispatch import receiver

from core.events import events_published
from notifications.services import notifications_enqueue


@receiver(events_published, dispatch_uid="notifications.enqueue_published_events")
def enqueue_published_events(sender, *, notices, now, **kwargs):
    notifications_enqueue(notices=notices, now=now)
