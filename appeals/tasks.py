"""Celery tasks of appeals: thin, idempotent (running twice changes nothing the second time)."""

from celery import shared_task
from django.utils import timezone

from appeals.services import appeals_flag_sla_breaches

SLA_TASK_NAME = "appeals.flag_sla_breaches"


@shared_task(name=SLA_TASK_NAME)
def flag_sla_breaches() -> int:
    """Registered with django-celery-beat every 15 minutes (migration 0002)."""
    return len(appeals_flag_sla_breaches(now=timezone.now()))
