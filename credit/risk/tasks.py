"""Celery tasks: thin, idempotent (re-running carries on where the last run stopped)."""

import logging

from celery import shared_task
from django.utils import timezone

from credit.risk.errors import NoActivePolicy, RunBusy
from credit.risk.models import RescoringRun
from credit.risk.rules import rules_run as run_rules
from credit.risk.runs import rescoring_nightly
from credit.risk.runs import run_execute as execute
from credit.risk.verification import verifications_expire as expire

logger = logging.getLogger(__name__)


@shared_task(name="risk.rescore_nightly")
def rescore_nightly() -> int | None:
    """02:00 Asia/Shanghai (django-celery-beat): finish an interrupted run, then score today."""
    try:
        run = rescoring_nightly(now=timezone.now())
    except NoActivePolicy:
        logger.warning("nightly rescoring skipped: no risk policy is active")
        return None
    return run.pk if run is not None else None


@shared_task(name="risk.run_execute")
def run_execute(*, run_id: int) -> str:
    """Carry one run on (after an approval, or to resume it); a busy run is left alone."""
    try:
        return execute(run=RescoringRun.objects.get(pk=run_id), now=timezone.now()).status
    except RunBusy:
        return "busy"


@shared_task(name="risk.rules_run")
def rules_run() -> int:
    """Every 10 minutes (django-celery-beat): evaluate the risk-event rules."""

    return len(run_rules(now=timezone.now()))


@shared_task(name="risk.verifications_expire")
def verifications_expire() -> int:
    """Every 10 minutes (django-celery-beat): freeze accounts whose verification timed out."""
    return expire(now=timezone.now())
