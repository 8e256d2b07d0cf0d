"""The one consumer of `notifications.events.event_published`: events become outbox rows."""

from django.dispatch import receiver

from notifications.events import event_published
from notifications.services import notification_enqueue


@receiver(event_published, dispatch_uid="notifications.enqueue_published_event")
def enqueue_published_event(sender, *, event, user, context, dedupe_key, now, **kwargs):
    notification_enqueue(event=event, user=user, context=context, dedupe_key=dedupe_key, now=now)
