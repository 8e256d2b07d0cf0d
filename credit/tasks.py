"""Celery tasks of the credit app (thin: read the clock, call one service)."""

from celery import shared_task
from django.utils import timezone

from credit.services.idempotency import idempotency_records_purge


@shared_task(name="credit.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    """Nightly: forget idempotency keys past their retention (idempotent by nature)."""
    return idempotency_records_purge(now=timezone.now())
