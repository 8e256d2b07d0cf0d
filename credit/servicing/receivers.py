"""Servicing's answers to `core.events`' questions: which queued reminders are past their use."""

from django.dispatch import receiver

from core.events import notices_past_use
from credit.servicing.services.reminders import reminders_past_use


@receiver(notices_past_use, dispatch_uid="servicing.reminders_past_use")
def reminders_past_their_use(sender, *, notices, now, **kwargs) -> dict[int, str]:
    return reminders_past_use(notices=notices, now=now)
