"""Celery tasks of the credit app (thin: read the clock, call one service)."""

from celery import shared_task
from django.utils import timezone

from credit.services.approvals import approvals_expire
from credit.services.idempotency import idempotency_records_purge


@shared_task(name="credit.idempotency_records_purge")
def idempotency_records_purge_task() -> int:
    """Nightly: forget idempotency keys past their retention (idempotent by nature)."""
    return idempotency_records_purge(now=timezone.now())


@shared_task(name="credit.approvals_expire")
def approvals_expire_task() -> int:
    """Hourly: requests nobody decided within APPROVAL_TTL_HOURS expire (idempotent)."""
    return approvals_expire(now=timezone.now())
