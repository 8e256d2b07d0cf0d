"""Early payoff: future-period fees are waived (when the schedule says so) and the saving shown."""

from decimal import Decimal

import pytest

from conftest import shanghai
from core.events import EventType
from credit.ledger_check import ledger_check
from credit.models import (
    FeeSchedule,
    InstallmentStatus,
    JournalEntryKind,
    PlanStatus,
    Repayment,
)
from credit.services import (
    IdempotencyKeyConflict,
    NothingToRepay,
    plan_payoff,
    plan_payoff_quote,
)
from testkit.credit import buy, open_account, repay, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
BOUGHT = shanghai(2026, 1, 6, 12, 0)  # 1200.00 × 6 at 0.75 %: 200.00 + 9.00 fee, Feb 10 … Jul 10


@pytest.fixture
def plan():
    account = open_account()
    return buy(account, "1200.00", term=6, now=BOUGHT).plan


def test_paying_off_early_waives_the_fees_of_periods_not_yet_started(plan):
    when = shanghai(2026, 3, 15, 10, 0)
    repay(plan.account, "209.00", now=shanghai(2026, 2, 10, 9, 0))  # February's installment

    quote = plan_payoff_quote(plan=plan, now=when)
    # Open: Mar 10 (past due, fully owed), Apr 10 (current period, its fee owed),
    # May, Jun, Jul (not started: fees waived).
    assert quote.fees_waived == D("27.00")
    assert quote.amount == D("1000.00") + D("18.00")

    with capture_events() as events:
        repayment = plan_payoff(plan=plan, idempotency_key="payoff-1", now=when)

    assert (repayment.amount, repayment.fees_waived, repayment.payoff_plan_id) == (
        quote.amount,
        quote.fees_waived,
        plan.pk,
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PAID_OFF
    assert set(plan.installments.values_list("status", flat=True)) == {InstallmentStatus.PAID}
    waived = dict(plan.installments.values_list("sequence", "fee_waived"))
    assert waived == {1: 0, 2: 0, 3: 0, 4: D("9.00"), 5: D("9.00"), 6: D("9.00")}
    plan.account.refresh_from_db()
    assert plan.account.outstanding_principal == 0
    assert plan.account.journal_entries.filter(
        kind=JournalEntryKind.FEE_WAIVER, reference=f"payoff:{plan.pk}"
    ).exists()
    assert [e.event for e in events] == [EventType.REPAYMENT_RECEIVED, EventType.PLAN_PAID_OFF]
    assert events[1].context["fees_waived"] == "27.00"
    assert ledger_check().ok


def test_paying_off_on_the_purchase_day_waives_all_but_the_first_periods_fee(plan):
    quote = plan_payoff_quote(plan=plan, now=BOUGHT)
    assert (quote.amount, quote.fees_waived) == (D("1209.00"), D("45.00"))


def test_a_schedule_that_does_not_waive_future_fees_charges_them_all(plan):
    FeeSchedule.objects.filter(pk=plan.fee_schedule_id).update(
        early_payoff_waives_future_fees=False
    )
    plan.refresh_from_db()
    quote = plan_payoff_quote(plan=plan, now=BOUGHT)
    assert (quote.amount, quote.fees_waived) == (D("1254.00"), D("0.00"))
    repayment = plan_payoff(plan=plan, idempotency_key="p", now=BOUGHT)
    assert (repayment.amount, repayment.fees_waived) == (D("1254.00"), D("0.00"))
    assert ledger_check().ok


def test_a_payoff_replayed_with_its_key_pays_once(plan):
    first = plan_payoff(plan=plan, idempotency_key="payoff-1", now=BOUGHT)
    again = plan_payoff(plan=plan, idempotency_key="payoff-1", now=BOUGHT)
    assert again.pk == first.pk
    assert Repayment.objects.count() == 1


def test_a_payoff_key_already_used_for_another_repayment_is_refused(plan):
    repay(plan.account, "10.00", idempotency_key="used", now=BOUGHT)
    before = row_counts()
    with pytest.raises(IdempotencyKeyConflict):
        plan_payoff(plan=plan, idempotency_key="used", now=BOUGHT)
    assert row_counts() == before


def test_paying_off_a_finished_plan_is_refused_and_writes_nothing(plan):
    plan_payoff(plan=plan, idempotency_key="a", now=BOUGHT)
    before = row_counts()
    with pytest.raises(NothingToRepay) as refused:
        plan_payoff(plan=plan, idempotency_key="b", now=BOUGHT)
    assert (refused.value.code, refused.value.http_status) == ("nothing_to_repay", 409)
    assert row_counts() == before


def test_paying_off_one_plan_leaves_the_others_untouched():
    account = open_account()
    one = buy(account, "600.00", term=3, now=BOUGHT).plan
    other = buy(account, "600.00", term=3, now=BOUGHT).plan
    plan_payoff(plan=one, idempotency_key="p1", now=shanghai(2026, 1, 7, 9, 0))
    assert set(other.installments.values_list("status", flat=True)) == {InstallmentStatus.PENDING}
    assert ledger_check().ok
