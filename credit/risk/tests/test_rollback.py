"""Rollback: every change of a run reverted exactly, accounts changed since skipped and
reported, announcements withdrawn; only a risk manager may do it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from conftest import shanghai
from core.permissions import NotPermitted
from core.reasons import ReasonCode
from credit.models import AccountStatus, LimitChange, LimitChangeKind, TemporaryLimitGrant
from credit.risk.errors import RunNotInState
from credit.risk.models import PendingLimitDecrease, PendingStatus, RunStatus, SeasonalCampaign
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, active_policy, assert_invariants, bands
from credit.services import limit_set
from testkit import reload
from testkit.credit import buy, open_account
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal
RUN_AT = shanghai(2026, 6, 5, 2)
LATER = RUN_AT + timedelta(hours=5)


@pytest.fixture(autouse=True)
def breaker_off(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100


def rescore(now=RUN_AT):
    return run_execute(run=run_plan(as_of=now.date(), now=now), now=now)


@pytest.fixture
def applied():
    """A run that raised two accounts (both also got a campaign grant), cut one a little and
    announced a deep cut on another. Scores: the fresh accounts 820 (→ 20 000); 75 % used,
    nothing late 790 (→ 8 000); 75 % used and 26 days past due 570 (→ 2 000, at most 60 %
    lower: 2 400, below what is owed, so announced)."""
    policy = active_policy(
        score_bands=bands((300, "2000"), (700, "8000"), (800, "20000")), max_cut_percent=D("60")
    )
    SeasonalCampaign.objects.create(
        policy=policy,
        name="618-2026",
        amount=D("1000"),
        starts_at=shanghai(2026, 6, 1),
        ends_at=shanghai(2026, 6, 19),
        min_score=810,
    )
    raised = open_account(base_limit="10000.00", now=OPENED_AT)
    also_raised = open_account(base_limit="15000.00", now=OPENED_AT)
    cut = open_account(base_limit="9000.00", now=OPENED_AT)
    buy(cut, "6750.00", now=shanghai(2026, 5, 20, 12), term=1)  # due 2026-06-10
    announced = open_account(base_limit="6000.00", now=OPENED_AT)
    buy(announced, "4500.00", now=shanghai(2026, 4, 1, 12), term=1)  # due 2026-05-10, unpaid
    before = {
        a.pk: (reload(a).base_limit, reload(a).temporary_limit)
        for a in (raised, also_raised, cut, announced)
    }
    run = rescore()
    return run, before, raised, also_raised, cut, announced


def test_rollback_restores_every_limit_exactly_and_audits_each_revert(applied):
    run, before, raised, also_raised, cut, announced = applied
    assert reload(raised).effective_limit == D("21000.00")  # raised to 20 000, +1 000 campaign
    assert reload(cut).base_limit == D("8000.00")
    pending = PendingLimitDecrease.objects.get(account=announced)
    manager = staff(Role.RISK_MANAGER)
    with capture_events() as events:
        report = run_rollback(run=run, actor=manager, now=LATER, note="model update was wrong")

    for account in (raised, also_raised, cut, announced):
        account = reload(account)
        assert (account.base_limit, account.temporary_limit) == before[account.pk]
    assert not TemporaryLimitGrant.objects.filter(status="ACTIVE").exists()
    assert TemporaryLimitGrant.objects.filter(status="REVOKED").count() == 2
    reverts = LimitChange.objects.filter(kind=LimitChangeKind.ROLLBACK).order_by("account_id")
    assert [r.account_id for r in reverts] == [raised.pk, also_raised.pk, cut.pk]
    for revert in reverts:
        # The run's cut is reversed as our error; its raises are simply reverted.
        codes = [ReasonCode.ROLLBACK] + (
            [ReasonCode.OUR_ERROR] if revert.account_id == cut.pk else []
        )
        assert (revert.reason_codes, revert.actor, revert.run_id) == (codes, manager, run.pk)
    assert reverts[0].old_effective_limit == D("21000.00")
    assert reverts[0].new_effective_limit == D("10000.00")
    assert reload(pending).status == PendingStatus.CANCELLED
    assert report["reverted"] == 3 and report["skipped_count"] == 0
    assert report["pending_cancelled"] == 1
    run = reload(run)
    assert (run.status, run.rolled_back_by) == (RunStatus.ROLLED_BACK, manager)
    assert run.rollback_report["reverted"] == 3
    assert sorted(e.event for e in events) == ["DECISION_REVERSED", "LIMIT_CUT", "LIMIT_CUT"]
    (reversed_notice,) = [e for e in events if e.event == "DECISION_REVERSED"]
    assert reversed_notice.user_id == cut.customer_id
    assert all(e.context["reason_codes"] == ["ROLLBACK"] for e in events if e.event == "LIMIT_CUT")
    assert report["cuts_reversed_as_our_error"] == 1
    assert_invariants()


def test_rollback_skips_and_reports_accounts_changed_since(applied):
    run, before, raised, also_raised, _cut, _announced = applied
    manager = staff(Role.RISK_MANAGER)
    override = limit_set(
        account=raised,
        new_base_limit="18000.00",
        reason_codes=[ReasonCode.STAFF_DECISION],
        now=RUN_AT + timedelta(hours=1),
        actor=manager,
        note="customer called",
    )
    report = run_rollback(run=run, actor=manager, now=LATER)
    assert report["skipped"] == [
        {
            "account_id": raised.pk,
            "later_limit_change_id": override.pk,
            "later_kind": "MANUAL_OVERRIDE",
            "reason": "changed since",
        }
    ]
    assert reload(raised).base_limit == D("18000.00")
    assert reload(raised).temporary_limit == D("1000.00")  # left as it was: the account is skipped
    assert reload(also_raised).base_limit == before[also_raised.pk][0]
    assert report["reverted"] == 2
    assert_invariants()


def test_reverting_a_raise_the_customer_already_used_sends_the_account_negative(applied):
    run, _before, raised, *_ = applied
    buy(raised, "15000.00", now=RUN_AT + timedelta(hours=1), term=3)
    with capture_events() as events:
        report = run_rollback(run=run, actor=staff(Role.RISK_MANAGER), now=LATER)
    account = reload(raised)
    assert account.base_limit == D("10000.00") and account.status == AccountStatus.NEGATIVE
    assert report["reverted_with_status_change"] == 1
    assert {e.event for e in events if e.user_id == account.customer_id} == {
        "LIMIT_CUT",
        "ACCOUNT_NEGATIVE",
    }
    assert_invariants()


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.SUPPORT_AGENT])
def test_only_a_risk_manager_may_roll_back(applied, role):
    run = applied[0]
    with pytest.raises(NotPermitted):
        run_rollback(run=run, actor=staff(role), now=LATER)
    assert reload(run).status == RunStatus.APPLIED


def test_a_run_is_rolled_back_once(applied):
    run = applied[0]
    manager = staff(Role.RISK_MANAGER)
    run_rollback(run=run, actor=manager, now=LATER)
    with pytest.raises(RunNotInState):
        run_rollback(run=run, actor=manager, now=LATER)
    assert LimitChange.objects.filter(kind=LimitChangeKind.ROLLBACK).count() == 3


def test_two_runs_roll_back_in_one_transaction(applied):
    from django.db import transaction

    first = applied[0]
    second = run_execute(
        run=run_plan(as_of=(RUN_AT + timedelta(days=1)).date(), now=RUN_AT + timedelta(days=1)),
        now=RUN_AT + timedelta(days=1),
    )
    manager = staff(Role.RISK_MANAGER)
    with transaction.atomic():
        run_rollback(run=second, actor=manager, now=LATER + timedelta(days=1))
        run_rollback(run=first, actor=manager, now=LATER + timedelta(days=1))
    assert reload(first).status == reload(second).status == RunStatus.ROLLED_BACK
