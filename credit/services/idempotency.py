"""Retention of the API's idempotency records (see credit/apis/idempotency.py)."""

from datetime import datetime, timedelta

from django.conf import settings

from credit.models import IdempotencyRecord


def idempotency_records_purge(*, now: datetime) -> int:
    """Forget keys older than the retention period (never less than 24 hours)."""
    hours = max(24, settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _per_model = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=hours)
    ).delete()
    return deleted
