"""Celery: the business-day close, run by beat at 00:30 Asia/Shanghai (data migration 0002)."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from credit.servicing.services import business_day_close

CLOSE_TASK = "servicing.close_business_day"


@shared_task(name=CLOSE_TASK)
def close_business_day(*, business_date: str | None = None) -> list[str]:
    """Close today's business date (or the given ISO date), catching up missed days first."""
    now = timezone.now()
    day = date.fromisoformat(business_date) if business_date else timezone.localdate(now)
    return [d.business_date.isoformat() for d in business_day_close(business_date=day, now=now)]
