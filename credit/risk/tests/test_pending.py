"""Cooling-off decided by staff (or the appeals app): confirm after the effective time,
cancel any time, never on a limit that changed since the announcement."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from core.reasons import ReasonCode
from credit.models import LimitChange, LimitChangeKind
from credit.risk.errors import (
    CoolingOffNotOver,
    NoteRequired,
    PendingDecreaseStale,
    PendingNotPending,
)
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.risk.pending import pending_decrease_cancel, pending_decrease_confirm
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, assert_invariants, bands
from credit.services import limit_set
from testkit import reload
from testkit.credit import open_account
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal
AFTER = RUN_AT + timedelta(hours=73)


@pytest.fixture
def announced(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "5000")))
    account = open_account(now=OPENED_AT)
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT)
    run_execute(run=run, now=RUN_AT)
    return PendingLimitDecrease.objects.get(account=account)


def test_staff_confirm_an_announcement_after_its_effective_time(announced):
    officer = staff(Role.RISK_OFFICER)
    with capture_events() as events:
        pending = pending_decrease_confirm(
            pending=announced, actor=officer, now=AFTER, note="reviewed the file"
        )
    assert (pending.status, pending.decided_by, pending.decided_at) == (
        PendingStatus.CONFIRMED,
        officer,
        AFTER,
    )
    account = reload(announced.account)
    assert account.base_limit == D("5000.00")
    change = pending.limit_change
    assert (change.kind, change.actor, change.reason_codes) == (
        LimitChangeKind.RESCORE,
        officer,
        announced.reason_codes,
    )
    assert [e.event for e in events] == ["LIMIT_CUT"]
    assert_invariants()


def test_nobody_may_confirm_before_the_promised_effective_time(announced):
    with pytest.raises(CoolingOffNotOver):
        pending_decrease_confirm(
            pending=announced,
            actor=staff(Role.RISK_OFFICER),
            now=AFTER - timedelta(hours=2),
            note="x",
        )
    assert reload(announced).status == PendingStatus.PENDING


def test_cancelling_keeps_the_limit_and_is_recorded(announced):
    manager = staff(Role.RISK_MANAGER)
    with capture_events() as events:
        pending = pending_decrease_cancel(
            pending=announced,
            actor=manager,
            now=RUN_AT + timedelta(hours=5),
            note="appeal approved",
        )
    # The customer who was told of the cut hears that it will not happen.
    assert [(e.event, e.user_id, e.context["new_limit"]) for e in events] == [
        ("LIMIT_DECREASE_CANCELLED", announced.account.customer_id, "5000.00")
    ]
    assert (pending.status, pending.decided_by, pending.decision_note) == (
        PendingStatus.CANCELLED,
        manager,
        "appeal approved",
    )
    assert reload(announced.account).base_limit == D("10000.00")
    assert not LimitChange.objects.filter(account=announced.account, run_id__isnull=False).exists()
    # A second cancel (say, the appeal and a later run) changes nothing; a confirm is refused.
    with capture_events() as events:
        again = pending_decrease_cancel(pending=announced, actor=manager, now=AFTER, note="again")
    assert events == []
    assert again.decided_at == RUN_AT + timedelta(hours=5)
    with pytest.raises(PendingNotPending):
        pending_decrease_confirm(pending=announced, actor=manager, now=AFTER, note="x")


def test_staff_must_say_why(announced):
    with pytest.raises(NoteRequired):
        pending_decrease_cancel(
            pending=announced, actor=staff(Role.RISK_OFFICER), now=AFTER, note=" "
        )


def test_an_announcement_is_not_confirmed_over_a_limit_changed_since(announced):
    limit_set(
        account=announced.account,
        new_base_limit="8000.00",
        reason_codes=[ReasonCode.STAFF_DECISION],
        now=RUN_AT + timedelta(hours=1),
        actor=staff(Role.RISK_MANAGER),
        note="manual review",
    )
    with pytest.raises(PendingDecreaseStale):
        pending_decrease_confirm(
            pending=announced, actor=staff(Role.RISK_OFFICER), now=AFTER, note="x"
        )
    assert reload(announced.account).base_limit == D("8000.00")


def test_a_run_cancels_an_announcement_over_a_limit_changed_since(announced):
    limit_set(
        account=announced.account,
        new_base_limit="6000.00",
        reason_codes=[ReasonCode.CUSTOMER_REQUEST],  # acts at once
        now=RUN_AT + timedelta(hours=1),
        actor=staff(Role.RISK_MANAGER),
        note="manual review",
    )
    later = run_plan(as_of=AFTER.date(), now=AFTER)
    later = run_execute(run=later, now=AFTER)
    pending = reload(announced)
    # 6 000 → 5 000 is a small cut now: the stale announcement goes, the run cuts directly.
    assert pending.status == PendingStatus.CANCELLED
    assert reload(announced.account).base_limit == D("5000.00")
    assert later.summary["applied"]["cut"] == 1
