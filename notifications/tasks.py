"""Celery tasks: thin, idempotent. A dispatch sends one batch; the sweeper fans batches out."""

from celery import shared_task
from django.utils import timezone

from notifications import services


@shared_task(name="notifications.dispatch")
def dispatch(*, ids: list[int] | None = None) -> None:
    """Send one batch: the given rows (a kick on commit) or the next due ones (the sweeper)."""
    services.notifications_dispatch(ids=ids, now=timezone.now())


@shared_task(name="notifications.sweep")
def sweep() -> int:
    """Every minute (django-celery-beat): one dispatch task per batch of due rows.

    Catches whatever the kicks on commit missed: rows written while the broker was down,
    SMS held for the quiet hours, retries after backoff, rows of a worker that died.
    """
    batches = services.notifications_due_batches(now=timezone.now())
    for _batch in range(batches):
        dispatch.apply_async(kwargs={})
    return batches
