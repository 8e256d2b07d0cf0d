"""The decision deadline: 48 hours, paused while waiting for the customer, breaches flagged once."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_fsm_log.models import StateLog

from accounts.roles import Role
from appeals import services
from appeals.models import Appeal, AppealStatus
from appeals.selectors import appeal_sla_summary, sla_state
from appeals.tasks import SLA_TASK_NAME, flag_sla_breaches
from appeals.tests.factories import NOW, frozen_appeal, in_review
from core.events import EventType
from notifications.models import Notification
from testkit import reload
from testkit.people import manager, officer, staff

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def breach_events(events):
    return [e for e in events if e.event == EventType.APPEAL_SLA_BREACHED]


def test_the_clock_pauses_while_waiting_for_the_customer_and_the_deadline_moves_on_resume():
    reviewer = officer()
    appeal = in_review(frozen_appeal(), reviewer)
    assert appeal.due_at == NOW + 48 * H

    services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=NOW + 10 * H)
    appeal = reload(appeal)
    assert appeal.paused_at == NOW + 10 * H

    services.appeal_answer(appeal=appeal, customer=appeal.customer, text="!", now=NOW + 35 * H)

    appeal = reload(appeal)
    assert appeal.paused_at is None
    assert appeal.paused_seconds == 25 * 3600
    assert appeal.due_at == NOW + 73 * H


def test_pauses_add_up_over_several_requests_for_information():
    reviewer = officer()
    appeal = in_review(frozen_appeal(), reviewer)
    for start, end in ((1, 3), (5, 10)):
        services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=NOW + start * H)
        services.appeal_answer(appeal=appeal, customer=appeal.customer, text="!", now=NOW + end * H)
    appeal = reload(appeal)
    assert appeal.paused_seconds == 7 * 3600
    assert appeal.due_at == NOW + 55 * H


def test_the_sla_length_is_a_setting(settings):
    settings.APPEALS_SLA_HOURS = 24
    appeal = frozen_appeal()
    assert reload(appeal).due_at == NOW + 24 * H


def test_appeals_past_due_are_flagged_once_and_each_risk_manager_is_told_once(events):
    late = frozen_appeal()
    on_time = frozen_appeal(now=NOW + 10 * H)
    boss_a, boss_b = manager(), manager()
    officer()  # not a manager: not told
    staff(Role.RISK_MANAGER, is_active=False)  # inactive: not told

    flagged = services.appeals_flag_sla_breaches(now=NOW + 48 * H + timedelta(minutes=1))

    assert flagged == [late.pk]
    assert reload(late).sla_breached_at == NOW + 48 * H + timedelta(minutes=1)
    assert reload(on_time).sla_breached_at is None
    told = breach_events(events)
    assert sorted(e.user_id for e in told) == sorted([boss_a.pk, boss_b.pk])
    assert {e.context["appeal_id"] for e in told} == {late.pk}
    log = StateLog.objects.for_(late).latest("pk")
    assert (log.transition, log.state, log.by) == ("sla_breach", AppealStatus.SUBMITTED, None)

    # Running again (the next 15-minute tick) flags and sends nothing new.
    assert services.appeals_flag_sla_breaches(now=NOW + 49 * H) == []
    assert len(breach_events(events)) == 2
    rows = Notification.objects.filter(event=EventType.APPEAL_SLA_BREACHED)
    assert set(rows.values_list("user_id", flat=True)) == {boss_a.pk, boss_b.pk}


def test_a_backlog_is_flagged_in_batches_each_appeal_once(events):
    boss = manager()
    backlog = [frozen_appeal(now=NOW - (50 + i) * H) for i in range(5)]

    flagged = services.appeals_flag_sla_breaches(now=NOW, batch_size=2)

    assert flagged == sorted(a.pk for a in backlog)
    assert Appeal.objects.filter(sla_breached_at=NOW).count() == 5
    told = [e.context["appeal_id"] for e in breach_events(events) if e.user_id == boss.pk]
    assert sorted(told) == flagged


def test_an_appeal_waiting_for_the_customer_is_never_flagged(events):
    manager()
    reviewer = officer()
    appeal = in_review(frozen_appeal(), reviewer)
    services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=NOW + H)

    assert services.appeals_flag_sla_breaches(now=NOW + 100 * H) == []
    assert breach_events(events) == []

    # Resumed after 99 hours paused: due 48 + 99 hours after submission.
    services.appeal_answer(appeal=appeal, customer=appeal.customer, text="!", now=NOW + 100 * H)
    assert services.appeals_flag_sla_breaches(now=NOW + 146 * H) == []
    assert services.appeals_flag_sla_breaches(now=NOW + 148 * H) == [appeal.pk]


def test_decided_and_withdrawn_appeals_are_never_flagged():
    reviewer = officer()
    decided, withdrawn = frozen_appeal(), frozen_appeal()
    services.appeal_decide(
        appeal=decided,
        actor=reviewer,
        outcome=AppealStatus.REJECTED,
        note="n",
        customer_reason="r",
        now=NOW + H,
    )
    services.appeal_withdraw(appeal=withdrawn, customer=withdrawn.customer, now=NOW + H)
    assert services.appeals_flag_sla_breaches(now=NOW + 100 * H) == []


def test_an_approval_waiting_for_the_second_manager_keeps_the_clock_running(settings):
    settings.APPEALS_SECOND_APPROVAL_ABOVE = Decimal("100.00")
    appeal = frozen_appeal()
    services.appeal_decide(
        appeal=appeal, actor=officer(), outcome=AppealStatus.APPROVED, note="n", now=NOW + H
    )
    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION
    assert services.appeals_flag_sla_breaches(now=NOW + 49 * H) == [appeal.pk]


def test_the_celery_task_runs_the_flagging_with_the_current_time(events):
    manager()
    appeal = frozen_appeal(now=NOW - timedelta(days=400))  # long past due by the real clock

    assert flag_sla_breaches.apply().get() == 1

    assert reload(appeal).sla_breached_at is not None
    assert flag_sla_breaches.apply().get() == 0


def test_the_migration_registers_the_task_every_15_minutes_and_is_idempotent():
    migration = importlib.import_module("appeals.migrations.0002_sla_breach_schedule")
    migration.register(django_apps, None)
    migration.register(django_apps, None)

    task = PeriodicTask.objects.get(name=migration.TASK_NAME)
    assert task.task == SLA_TASK_NAME
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (15, IntervalSchedule.MINUTES)


def test_the_sla_state_and_the_dashboard_figures():
    reviewer = officer()
    breached = frozen_appeal(now=NOW - 50 * H)
    services.appeals_flag_sla_breaches(now=NOW)
    due_today = frozen_appeal(now=NOW - 40 * H)  # due 18:00 today
    paused = in_review(frozen_appeal(), reviewer)
    services.appeal_request_info(appeal=paused, actor=reviewer, note="?", now=NOW)
    later = frozen_appeal()

    assert sla_state(reload(breached), now=NOW) == "breached"
    assert sla_state(reload(due_today), now=NOW) == "due_today"
    assert sla_state(reload(paused), now=NOW) == "paused"
    assert sla_state(reload(later), now=NOW) == "on_time"

    summary = appeal_sla_summary(now=NOW)
    assert summary["open"] == 4
    assert summary["open_breached"] == 1
    assert summary["due_today"] == 1
    assert summary["waiting_for_customer"] == 1
    assert summary["breached_recent"] == 1
    assert {row["type"]: row["breached"] for row in summary["by_type"]}["FREEZE"] == 1
    assert Appeal.objects.count() == 4
