"""How runs start: the beat schedule, the tasks, `manage.py rescore` and `risk_rules`."""

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from credit.models import LimitChange
from credit.risk.models import RescoringRun, RunStatus
from credit.risk.rules import rules_ensure
from credit.risk.tests.factories import OPENED_AT, active_policy, bands
from testkit.credit import open_account

pytestmark = pytest.mark.django_db


def test_the_nightly_rescoring_is_scheduled_at_two_in_shanghai_and_the_rules_every_ten_minutes():
    """…and the verification timeouts every ten minutes too."""
    # The data migrations' own functions (a transactional test elsewhere may have flushed their
    # rows); running them again changes nothing. The rule rows come first, from today's model:
    # 0002's defaults name a column 0004 replaced, and get_or_create only reads them to create.
    rules_ensure()
    schedules = importlib.import_module("credit.risk.migrations.0002_schedules_rules_draft_policy")
    verifications = importlib.import_module(
        "credit.risk.migrations.0004_rule_action_verification_challenge"
    )
    for _twice in range(2):
        schedules.forwards(django_apps, None)
        verifications.forwards(django_apps, None)
    assert PeriodicTask.objects.filter(task__startswith="risk.").count() == 3
    nightly = PeriodicTask.objects.get(task="risk.rescore_nightly")
    cron = nightly.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == (
        "0",
        "2",
        "*",
        "Asia/Shanghai",
    )
    rules = PeriodicTask.objects.get(task="risk.rules_run")
    assert (rules.interval.every, rules.interval.period) == (10, "minutes")
    assert nightly.enabled and rules.enabled
    expiry = PeriodicTask.objects.get(task="risk.verifications_expire")
    assert (expiry.interval.every, expiry.interval.period, expiry.enabled) == (10, "minutes", True)


def test_the_task_names_are_registered_with_celery():
    from config.celery import app

    app.loader.import_default_modules()
    assert {
        "risk.rescore_nightly",
        "risk.run_execute",
        "risk.rules_run",
        "risk.verifications_expire",
    } <= set(app.tasks)


def test_rescore_dry_run_prints_the_summary_and_applies_nothing(settings):
    active_policy(score_bands=bands((300, "20000")))
    open_account(now=OPENED_AT)
    out = StringIO()
    call_command("rescore", "--dry-run", "--date", "2026-03-10", stdout=out)
    run = RescoringRun.objects.get()
    assert (run.dry_run, run.status, str(run.as_of)) == (True, RunStatus.SIMULATED, "2026-03-10")
    assert "SIMULATED" in out.getvalue() and "'RAISE': 1" in out.getvalue()
    assert not LimitChange.objects.filter(run_id=run.pk).exists()


def test_rescore_applies_and_a_second_call_for_the_date_does_nothing(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "20000")))
    open_account(now=OPENED_AT)
    call_command("rescore", "--date", "2026-03-10", stdout=StringIO())
    out = StringIO()
    call_command("rescore", "--date", "2026-03-10", stdout=out)
    assert "already has a run" in out.getvalue()
    assert RescoringRun.objects.get().status == RunStatus.APPLIED


def test_rescore_explains_a_missing_policy():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(CommandError, match="没有生效的风控策略"):
        call_command("rescore", "--date", "2026-03-10", "--no-rules", stdout=StringIO())
    with translation.override("en"), pytest.raises(CommandError, match="No risk policy is active"):
        call_command("rescore", "--date", "2026-03-10", "--no-rules", stdout=StringIO())


def test_the_nightly_task_runs_the_nightly_job(settings):
    from credit.risk.tasks import rescore_nightly

    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy()
    open_account(now=OPENED_AT)
    run_id = rescore_nightly.apply().get()
    assert RescoringRun.objects.get(pk=run_id).status == RunStatus.APPLIED


def test_the_nightly_task_waits_quietly_while_no_policy_is_active():
    from credit.risk.tasks import rescore_nightly

    open_account(now=OPENED_AT)
    assert rescore_nightly.apply().get() is None
    assert not RescoringRun.objects.exists()
