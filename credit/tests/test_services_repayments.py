"""repayment_apply: the waterfall, the credit balance, recovery; refusals and replays."""

from decimal import Decimal

import pytest
from django.db.models import F

from conftest import shanghai
from core.events import EventType
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import (
    AccountStatus,
    AllocationComponent,
    Installment,
    InstallmentStatus,
    JournalEntryKind,
    LimitChangeKind,
    PlanStatus,
    Repayment,
)
from credit.models import LedgerAccount as L
from credit.services import (
    AccountClosed,
    IdempotencyKeyConflict,
    InvalidAmount,
    account_close,
    account_freeze,
    limit_set,
    repayment_apply,
)
from credit.services.ledger import credit, debit, journal_post
from testkit.credit import buy, open_account, repay, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
BOUGHT = shanghai(2026, 1, 6, 12, 0)  # due day 10 → installments due Feb 10, Mar 10, ...


def accrue_penalty(installment: Installment, amount: str, now) -> None:
    """What servicing does on an overdue installment: penalty on it, and in the ledger."""
    Installment.objects.filter(pk=installment.pk).update(
        penalty=F("penalty") + D(amount), status=InstallmentStatus.OVERDUE
    )
    journal_post(
        kind=JournalEntryKind.PENALTY,
        account=installment.account,
        reference=f"penalty:{installment.pk}",
        now=now,
        lines=[debit(L.RECEIVABLE_PENALTY, D(amount)), credit(L.PENALTY_INCOME, D(amount))],
    )


def allocations(repayment: Repayment) -> list[tuple]:
    return [
        (a.installment.sequence if a.installment else None, a.component, a.amount)
        for a in repayment.allocations.select_related("installment").order_by("id")
    ]


def test_a_repayment_pays_the_oldest_due_first_penalty_then_fee_then_principal():
    account = open_account()
    older = buy(account, "300.00", term=3, now=BOUGHT)  # 100.00 + 2.40 fee, Feb 10 to Apr 10
    newer = buy(account, "600.00", term=6, now=shanghai(2026, 1, 28, 12, 0))  # from Mar 10
    first = older.plan.installments.get(sequence=1)
    accrue_penalty(first, "1.50", now=shanghai(2026, 2, 20, 2, 0))

    repayment = repay(account, "110.00", now=shanghai(2026, 2, 21, 9, 0))

    assert allocations(repayment) == [
        (1, AllocationComponent.PENALTY, D("1.50")),
        (1, AllocationComponent.FEE, D("2.40")),
        (1, AllocationComponent.PRINCIPAL, D("100.00")),
        (2, AllocationComponent.FEE, D("2.40")),
        (2, AllocationComponent.PRINCIPAL, D("3.70")),
    ]
    first.refresh_from_db()
    assert (first.status, first.paid_at) == (InstallmentStatus.PAID, repayment.received_at)
    assert older.plan.installments.get(sequence=2).status == InstallmentStatus.PENDING
    # Both plans have an installment due Mar 10: the older plan's goes first.
    assert not newer.plan.installments.filter(allocations__isnull=False).exists()
    account.refresh_from_db()
    assert account.outstanding_principal == D("900.00") - D("103.70")
    assert ledger_check().ok


def test_allocations_sum_exactly_to_the_repayment_and_the_ledger_says_the_same():
    account = open_account()
    buy(account, "1000.00", term=3, now=BOUGHT)
    repayment = repay(account, "500.00", now=shanghai(2026, 2, 9, 9, 0))
    assert sum(a.amount for a in repayment.allocations.all()) == D("500.00")
    [entry] = account.journal_entries.filter(reference=f"repayment:{repayment.pk}")
    lines = {(line.ledger_account, line.debit, line.credit) for line in entry.lines.all()}
    assert lines == {
        (L.CASH, D("500.00"), D("0.00")),
        # The first installment's fee; the second's period has not started: principal only.
        (L.RECEIVABLE_FEE, D("0.00"), D("8.00")),
        (L.RECEIVABLE_PRINCIPAL, D("0.00"), D("492.00")),
    }


def test_an_overpayment_becomes_a_credit_balance_and_closes_the_plan():
    account = open_account()
    purchase = buy(account, "300.00", term=3, now=BOUGHT)
    with capture_events() as events:
        repayment = repay(account, "400.00", now=shanghai(2026, 2, 1, 9, 0))
    # 300.00 + the current period's fee 2.40; the two later periods' fees are waived.
    assert allocations(repayment)[-1] == (None, AllocationComponent.CREDIT_BALANCE, D("97.60"))
    assert repayment.fees_waived == D("4.80")
    account.refresh_from_db()
    assert (account.outstanding_principal, account.credit_balance) == (D("0.00"), D("97.60"))
    purchase.plan.refresh_from_db()
    assert purchase.plan.status == PlanStatus.PAID_OFF
    assert [e.event for e in events] == [EventType.REPAYMENT_RECEIVED]
    assert events[0].context["credit_balance_added"] == "97.60"
    assert ledger_check().ok


def test_a_repayment_with_nothing_owed_is_all_credit_balance():
    account = open_account()
    repayment = repay(account, "50.00", now=shanghai(2026, 2, 1, 9, 0))
    assert allocations(repayment) == [(None, AllocationComponent.CREDIT_BALANCE, D("50.00"))]
    assert ledger_check().ok


def test_a_repayment_that_brings_available_back_to_zero_restores_a_negative_account():
    account = open_account(base_limit="1000.00")
    buy(account, "900.00", term=3, now=BOUGHT)
    limit_set(
        account=account,
        new_base_limit=D("600.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.HIGH_UTILISATION],
        run_id=4,
        now=shanghai(2026, 1, 15, 2, 0),
    )
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.NEGATIVE, D("-300.00"))

    repay(account, "307.19", now=shanghai(2026, 2, 10, 9, 0))  # 7.20 fee + 299.99 principal
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.NEGATIVE, D("-0.01"))

    with capture_events() as events:
        repay(account, "0.01", now=shanghai(2026, 2, 10, 9, 5))
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.RESTORED, D("0.00"))
    assert account.status_reason_codes == [ReasonCode.REPAID_ABOVE_ZERO]
    assert account.restored_at == shanghai(2026, 2, 10, 9, 5)
    assert EventType.ACCOUNT_RESTORED in [e.event for e in events]
    log = account_state_logs(account)[-1]
    assert (log.source_state, log.state, log.transition) == ("NEGATIVE", "RESTORED", "recover")
    assert ledger_check().ok


def account_state_logs(account):
    from django_fsm_log.models import StateLog

    return list(StateLog.objects.for_(account).order_by("id"))


def test_a_frozen_account_may_repay_and_stays_frozen():
    account = open_account()
    buy(account, "300.00", now=BOUGHT)
    account_freeze(account=account, reason="COMPLIANCE", now=shanghai(2026, 2, 15, 2, 0))
    repay(account, "102.40", now=shanghai(2026, 2, 16, 9, 0))
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN
    assert account.outstanding_principal == D("200.00")


def test_a_closed_account_refuses_repayments_and_writes_nothing():
    account = open_account()
    account_close(account=account, now=shanghai(2026, 2, 1, 9, 0))
    before = row_counts()
    with pytest.raises(AccountClosed):
        repay(account, "10.00", now=shanghai(2026, 2, 2, 9, 0))
    assert row_counts() == before


@pytest.mark.parametrize(
    "amount", ["0", "-1.00", "1.001", "", "1e3000", "1000000000000.00", "sNaN"]
)
def test_a_bad_repayment_amount_is_refused_and_writes_nothing(amount):
    account = open_account()
    before = row_counts()
    with pytest.raises(InvalidAmount):
        repayment_apply(account=account, amount=amount, idempotency_key="k", now=BOUGHT)
    assert row_counts() == before


def test_replaying_a_repayment_applies_it_once():
    account = open_account()
    buy(account, "300.00", now=BOUGHT)
    with capture_events() as events:
        first = repay(account, "50.00", idempotency_key="pay-1", now=shanghai(2026, 2, 1, 9, 0))
        again = repay(account, "50.00", idempotency_key="pay-1", now=shanghai(2026, 2, 1, 9, 1))
    assert again.pk == first.pk
    assert Repayment.objects.count() == 1
    assert len(events) == 1
    account.refresh_from_db()
    assert account.outstanding_principal == D("252.40")


def test_reusing_a_repayment_key_for_another_amount_is_refused_and_writes_nothing():
    account = open_account()
    buy(account, "300.00", now=BOUGHT)
    repay(account, "50.00", idempotency_key="pay-1", now=shanghai(2026, 2, 1, 9, 0))
    before = row_counts()
    with pytest.raises(IdempotencyKeyConflict):
        repay(account, "60.00", idempotency_key="pay-1", now=shanghai(2026, 2, 1, 9, 1))
    assert row_counts() == before


# --- money already paid works at once (issue #12, Must 9) ------------------------------------


def test_a_purchase_paid_at_once_from_a_credit_balance_is_an_early_payoff_without_future_fees(
    settings,
):
    settings.CREDIT_PREPAYMENT_ALLOWANCE = D("2000.00")
    account = open_account()
    repay(account, "2000.00", now=BOUGHT)  # nothing owed: all credit balance
    with capture_events() as events:
        purchase = buy(account, "1000.00", term=6, now=BOUGHT)  # 6 × 7.50 fee: 45.00

    installments = list(purchase.plan.installments.order_by("sequence"))
    # Only the period that has begun costs its fee; the five later ones are waived.
    assert sum((i.fee_paid for i in installments), D("0.00")) == D("7.50")
    assert sum((i.fee_waived for i in installments), D("0.00")) == D("37.50")
    assert all(i.status == InstallmentStatus.PAID for i in installments)
    purchase.plan.refresh_from_db()
    assert purchase.plan.status == PlanStatus.PAID_OFF
    account.refresh_from_db()
    assert (account.outstanding_principal, account.credit_balance) == (D("0.00"), D("992.50"))
    paid = account.repayments.get(channel="CREDIT_BALANCE")
    assert (paid.amount, paid.fees_waived) == (D("1007.50"), D("37.50"))
    [received] = [e for e in events if e.event == EventType.REPAYMENT_RECEIVED]
    assert received.context["credit_balance_added"] == "0.00"
    assert ledger_check().ok


def test_a_partial_prepayment_never_pays_a_fee_for_a_period_that_has_not_begun():
    account = open_account()
    purchase = buy(account, "1200.00", term=3, now=BOUGHT)  # 400.00 + 9.60 fee a period
    # On 1 February period 1 (to 10 Feb) has begun; periods 2 and 3 have not.
    repayment = repay(account, "700.00", now=shanghai(2026, 2, 1, 9, 0))

    first, second, third = purchase.plan.installments.order_by("sequence")
    assert (first.fee_paid, first.principal_paid, first.status) == (
        D("9.60"),
        D("400.00"),
        InstallmentStatus.PAID,
    )
    # 290.40 left: principal of period 2 only, its fee untouched (not paid, not yet waived).
    assert (second.fee_paid, second.fee_waived, second.principal_paid, second.status) == (
        D("0.00"),
        D("0.00"),
        D("290.40"),
        InstallmentStatus.PENDING,
    )
    assert (third.fee_paid, third.principal_paid) == (D("0.00"), D("0.00"))
    assert repayment.fees_waived == D("0.00")
    # Prepaying the rest of period 2's principal waives its fee.
    repay(account, "109.60", now=shanghai(2026, 2, 2, 9, 0))
    second.refresh_from_db()
    assert (second.fee_paid, second.fee_waived, second.status) == (
        D("0.00"),
        D("9.60"),
        InstallmentStatus.PAID,
    )
    assert ledger_check().ok


def test_the_waterfall_still_takes_the_fee_of_a_period_that_has_begun():
    account = open_account()
    purchase = buy(account, "1200.00", term=3, now=BOUGHT)
    # 20 February: period 1 is past due, period 2 (to 10 March) has begun.
    repay(account, "900.00", now=shanghai(2026, 2, 20, 9, 0))
    first, second, third = purchase.plan.installments.order_by("sequence")
    assert (first.fee_paid, second.fee_paid, third.fee_paid) == (D("9.60"), D("9.60"), D("0.00"))
    assert third.principal_paid == D("900.00") - D("819.20")
    assert ledger_check().ok
