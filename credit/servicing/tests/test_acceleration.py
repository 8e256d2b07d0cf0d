"""提前结清: only a risk manager, only on a frozen account, with a reason; the schedule moves to
15 days out and comes back on withdrawal, penalties of the accelerated dates waived."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.roles import Role
from accounts.tests.factories import customer
from conftest import shanghai
from core.permissions import NotPermitted
from credit.models import FreezeReason, InstallmentStatus, JournalEntry
from credit.services import account_freeze
from credit.services.errors import ReasonRequired
from credit.servicing.errors import (
    AccelerationAlreadyActive,
    AccelerationNeedsFrozenAccount,
    AccelerationNotActive,
)
from credit.servicing.models import Acceleration, AccelerationStatus
from credit.servicing.services import acceleration_demand, acceleration_withdraw
from credit.servicing.tests.helpers import (
    OPENED_AT,
    close,
    close_through,
    installments,
    penalty_journal,
)
from testkit.credit import buy, open_account
from testkit.events import capture_events
from testkit.people import staff

D = Decimal
pytestmark = pytest.mark.django_db
DEMANDED_AT = shanghai(2026, 2, 2, 10, 0)


@pytest.fixture
def frozen():
    """¥3,000 in 3 periods due 10 Feb, 10 Mar, 10 Apr 2026; frozen by staff on 1 February."""
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    account_freeze(account=account, reason=FreezeReason.STAFF, now=shanghai(2026, 2, 1))
    close(date(2026, 2, 2))
    return account


@pytest.fixture
def manager():
    return staff(Role.RISK_MANAGER)


def demand(account, actor, reason="多头借贷，还款能力存疑"):
    return acceleration_demand(account=account, reason=reason, actor=actor, now=DEMANDED_AT)


def test_a_risk_manager_makes_the_remaining_installments_due_in_15_days(frozen, manager):
    with capture_events() as events:
        acceleration = demand(frozen, manager)
    assert (acceleration.status, acceleration.due_date, acceleration.amount) == (
        AccelerationStatus.ACTIVE,
        date(2026, 2, 17),
        D("3072.00"),
    )
    assert (acceleration.demanded_by, acceleration.installments_moved) == (manager, 2)
    # 10 February is sooner than the 17th and keeps its date; the later two move.
    assert [(i.due_date, i.due_date_before_acceleration) for i in installments(frozen)] == [
        (date(2026, 2, 10), None),
        (date(2026, 2, 17), date(2026, 3, 10)),
        (date(2026, 2, 17), date(2026, 4, 10)),
    ]
    [event] = events
    assert event.event == "ACCELERATION"
    assert event.user_id == frozen.customer_id
    assert event.context["reason"] == "多头借贷，还款能力存疑"
    assert event.context["reason_codes"] == ["STAFF_DECISION"]
    assert event.context["appeal_url"] == f"/appeals/new/?acceleration={acceleration.pk}"
    assert (event.context["amount"], event.context["due_date"]) == ("3072.00", "2026-02-17")


@pytest.mark.parametrize(
    "role", [Role.RISK_OFFICER, Role.SUPPORT_AGENT, Role.AUDITOR, None], ids=str
)
def test_nobody_but_a_risk_manager_may_demand_early_repayment(frozen, role):
    with pytest.raises(NotPermitted):
        demand(frozen, staff(role))
    with pytest.raises(NotPermitted):
        demand(frozen, customer())
    with pytest.raises(NotPermitted):
        demand(frozen, None)
    assert not Acceleration.objects.exists()
    assert all(i.due_date_before_acceleration is None for i in installments(frozen))


def test_only_the_risk_manager_role_holds_the_permission_to_demand():
    assert staff(Role.RISK_MANAGER).has_perm("servicing.demand_acceleration")
    for role in (Role.RISK_OFFICER, Role.SUPPORT_AGENT, Role.AUDITOR):
        assert not staff(role).has_perm("servicing.demand_acceleration"), role


def test_risk_officers_may_withdraw_a_demand_as_their_appeal_decisions_do(frozen, manager):
    acceleration = demand(frozen, manager)
    officer = staff(Role.RISK_OFFICER)
    acceleration_withdraw(
        acceleration=acceleration, actor=officer, now=shanghai(2026, 2, 3), note="申诉通过"
    )
    acceleration.refresh_from_db()
    assert (acceleration.status, acceleration.withdrawn_by) == (
        AccelerationStatus.WITHDRAWN,
        officer,
    )


def test_an_active_account_cannot_be_accelerated(manager):
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    with pytest.raises(AccelerationNeedsFrozenAccount):
        demand(account, manager)
    assert not Acceleration.objects.exists()


def test_a_reason_is_required(frozen, manager):
    with pytest.raises(ReasonRequired):
        demand(frozen, manager, reason="   ")
    assert not Acceleration.objects.exists()


def test_one_demand_at_a_time(frozen, manager):
    demand(frozen, manager)
    with pytest.raises(AccelerationAlreadyActive):
        demand(frozen, manager)


def test_the_acceleration_period_is_a_setting(frozen, manager, settings):
    settings.SERVICING_ACCELERATION_DAYS = 40
    assert demand(frozen, manager).due_date == date(2026, 3, 14)


def test_accelerated_installments_go_overdue_and_accrue_penalties_from_their_new_date(
    frozen, manager
):
    demand(frozen, manager)
    close_through(date(2026, 2, 3), date(2026, 2, 21))
    _first, second, third = installments(frozen)
    assert (second.status, second.days_past_due, second.penalty) == (
        InstallmentStatus.OVERDUE,
        4,
        D("0.51"),
    )
    assert third.penalty == D("0.51")


def test_withdrawal_restores_the_schedule_and_waives_the_accelerated_penalties(frozen, manager):
    acceleration = demand(frozen, manager)
    close_through(date(2026, 2, 3), date(2026, 2, 26))  # the 17th is 9 days behind
    first_penalty = installments(frozen)[0].penalty
    with capture_events() as events:
        withdrawn = acceleration_withdraw(
            acceleration=acceleration,
            actor=manager,
            now=shanghai(2026, 2, 26, 10, 0),
            note="客户提供了收入证明",
        )
    assert (withdrawn.status, withdrawn.withdrawn_by, withdrawn.withdrawn_note) == (
        AccelerationStatus.WITHDRAWN,
        manager,
        "客户提供了收入证明",
    )
    first, second, third = installments(frozen)
    assert [(i.due_date, i.status, i.days_past_due) for i in (second, third)] == [
        (date(2026, 3, 10), InstallmentStatus.PENDING, 0),
        (date(2026, 4, 10), InstallmentStatus.PENDING, 0),
    ]
    # Six days (21–26 February) at 0.51 on each moved installment, all waived.
    assert [(i.penalty, i.penalty_waived) for i in (second, third)] == [(D("3.06"), D("3.06"))] * 2
    assert first.penalty == first_penalty  # never accelerated: untouched
    waiver = JournalEntry.objects.get(account=frozen, kind="PENALTY_WAIVER")
    assert waiver.reference == f"acceleration:{acceleration.pk}"
    assert penalty_journal(frozen) == first.penalty
    [event] = events
    assert (event.event, event.context["reason_codes"], event.context["penalty_waived"]) == (
        "ACCELERATION_WITHDRAWN",
        ["STAFF_DECISION"],
        "6.12",
    )
    close(date(2026, 2, 27))
    second.refresh_from_db()
    assert (second.status, second.penalty) == (InstallmentStatus.PENDING, D("3.06"))


def test_a_withdrawal_after_the_original_date_charges_only_the_days_really_late(frozen, manager):
    acceleration = demand(frozen, manager)
    close_through(date(2026, 2, 3), date(2026, 3, 14))
    acceleration_withdraw(
        acceleration=acceleration, actor=manager, now=shanghai(2026, 3, 14, 10), note="复核撤销"
    )
    second = installments(frozen)[1]
    assert (second.due_date, second.status, second.days_past_due) == (
        date(2026, 3, 10),
        InstallmentStatus.OVERDUE,
        4,
    )
    assert second.penalty_due == D("0")
    close(date(2026, 3, 15))
    second.refresh_from_db()
    # 5 days past 10 March, 3 of grace: 14 and 15 March at 0.51.
    assert second.penalty_due == D("1.02")


def test_only_permitted_staff_withdraw_and_only_once(frozen, manager):
    acceleration = demand(frozen, manager)
    for role in (Role.SUPPORT_AGENT, Role.AUDITOR):
        with pytest.raises(NotPermitted):
            acceleration_withdraw(
                acceleration=acceleration, actor=staff(role), now=shanghai(2026, 2, 3), note="x"
            )
    with pytest.raises(ReasonRequired):
        acceleration_withdraw(acceleration=acceleration, actor=manager, now=DEMANDED_AT, note="")
    # An approved appeal withdraws it (actor None) with its own reason code.
    acceleration_withdraw(
        acceleration=acceleration,
        actor=None,
        now=shanghai(2026, 2, 3),
        note="appeal 7 approved",
        reason_codes=["APPEAL_APPROVED"],
    )
    with pytest.raises(AccelerationNotActive):
        acceleration_withdraw(
            acceleration=acceleration, actor=manager, now=shanghai(2026, 2, 4), note="again"
        )
    assert [i.due_date_before_acceleration for i in installments(frozen)] == [None] * 3
