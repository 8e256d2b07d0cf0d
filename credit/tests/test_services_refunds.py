"""purchase_refund: principal falls from the last installment back, fees follow, excess → credit."""

from decimal import Decimal

import pytest

from conftest import shanghai
from core.events import EventType
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import (
    AccountStatus,
    InstallmentStatus,
    JournalEntryKind,
    LimitChangeKind,
    PlanStatus,
    PurchaseStatus,
    Refund,
)
from credit.models import LedgerAccount as L
from credit.services import (
    AccountClosed,
    IdempotencyKeyConflict,
    InvalidAmount,
    RefundTooLarge,
    account_close,
    limit_set,
    purchase_refund,
)
from testkit.credit import buy, key, open_account, repay, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
BOUGHT = shanghai(2026, 1, 6, 12, 0)
LATER = shanghai(2026, 1, 20, 12, 0)


def refund(purchase, amount, *, now=LATER, idempotency_key=None):
    return purchase_refund(
        purchase=purchase,
        amount=D(amount),
        idempotency_key=idempotency_key or key("refund"),
        now=now,
    )


def entry_lines(result, kind):
    """(ledger account, debit, credit) of the refund's journal entry of this kind."""
    lines = result.purchase.account.journal_lines.filter(
        entry__reference=f"refund:{result.pk}", entry__kind=kind
    )
    return {(line.ledger_account, line.debit, line.credit) for line in lines}


def installment_rows(purchase):
    return [
        (i.principal_refunded, i.fee_waived, i.status)
        for i in purchase.plan.installments.order_by("sequence")
    ]


def test_a_full_refund_before_any_repayment_cancels_the_plan_and_every_fee():
    account = open_account()
    purchase = buy(account, "1000.00", term=3, now=BOUGHT)
    with capture_events() as events:
        result = refund(purchase, "1000.00")

    assert (result.principal_reduced, result.fees_waived, result.credit_balance_added) == (
        D("1000.00"),
        D("24.00"),
        D("0.00"),
    )
    assert installment_rows(purchase) == [
        (D("333.33"), D("8.00"), InstallmentStatus.WAIVED),
        (D("333.33"), D("8.00"), InstallmentStatus.WAIVED),
        (D("333.34"), D("8.00"), InstallmentStatus.WAIVED),
    ]
    purchase.refresh_from_db()
    purchase.plan.refresh_from_db()
    assert (purchase.status, purchase.refunded_amount) == (PurchaseStatus.REFUNDED, D("1000.00"))
    assert purchase.plan.status == PlanStatus.REFUNDED
    account.refresh_from_db()
    assert (account.outstanding_principal, account.available) == (D("0.00"), D("10000.00"))
    assert [e.event for e in events] == [EventType.REFUND_RECEIVED]
    assert ledger_check().ok


def test_a_partial_refund_comes_off_the_last_installments_with_their_fees():
    account = open_account()
    purchase = buy(account, "1000.00", term=3, now=BOUGHT)
    result = refund(purchase, "400.00")

    assert installment_rows(purchase) == [
        (D("0.00"), D("0.00"), InstallmentStatus.PENDING),
        (D("66.66"), D("1.60"), InstallmentStatus.PENDING),
        (D("333.34"), D("8.00"), InstallmentStatus.WAIVED),
    ]
    assert (result.principal_reduced, result.fees_waived) == (D("400.00"), D("9.60"))
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.PARTIALLY_REFUNDED
    account.refresh_from_db()
    assert account.outstanding_principal == D("600.00")
    entries = {e.kind: e for e in account.journal_entries.filter(reference=f"refund:{result.pk}")}
    assert set(entries) == {JournalEntryKind.REFUND, JournalEntryKind.FEE_WAIVER}
    assert ledger_check().ok


def test_a_refund_after_a_partial_repayment_returns_the_excess_as_credit_balance():
    account = open_account()
    purchase = buy(account, "1000.00", term=3, now=BOUGHT)
    repay(account, "341.33", now=shanghai(2026, 2, 10, 9, 0))  # the first installment

    result = refund(purchase, "1000.00", now=shanghai(2026, 2, 12, 9, 0))

    # The repaid principal and the fee paid with it come back: the purchase cost nothing.
    assert (
        result.principal_reduced,
        result.fees_waived,
        result.fees_returned,
        result.credit_balance_added,
    ) == (D("666.67"), D("16.00"), D("8.00"), D("341.33"))
    account.refresh_from_db()
    assert (account.outstanding_principal, account.credit_balance) == (D("0.00"), D("341.33"))
    assert entry_lines(result, JournalEntryKind.REFUND) == {
        (L.MERCHANT_PAYABLE, D("1000.00"), D("0.00")),
        (L.RECEIVABLE_PRINCIPAL, D("0.00"), D("666.67")),
        (L.CUSTOMER_CREDIT, D("0.00"), D("333.33")),
    }
    assert entry_lines(result, JournalEntryKind.FEE_RETURN) == {
        (L.FEE_INCOME, D("8.00"), D("0.00")),
        (L.CUSTOMER_CREDIT, D("0.00"), D("8.00")),
    }
    purchase.plan.refresh_from_db()
    assert purchase.plan.status == PlanStatus.REFUNDED
    assert ledger_check().ok


def test_a_refund_of_a_repaid_purchase_is_all_credit_balance():
    account = open_account()
    purchase = buy(account, "300.00", term=1, now=BOUGHT)
    repay(account, "300.00", now=shanghai(2026, 2, 1, 9, 0))
    result = refund(purchase, "120.00", now=shanghai(2026, 2, 2, 9, 0))
    assert (result.principal_reduced, result.credit_balance_added) == (D("0.00"), D("120.00"))
    account.refresh_from_db()
    assert account.credit_balance == D("120.00")
    assert ledger_check().ok


def test_partial_refunds_that_add_up_to_the_whole_purchase_waive_every_fee_cent():
    # 1.00 + 1.00 + 331.34 come off the last installment (333.34, fee 8.00); rounding each
    # slice's fee on its own would waive 0.02 + 0.02 + 7.95 = 7.99 and leave a cent owed.
    account = open_account()
    purchase = buy(account, "1000.00", term=3, now=BOUGHT)
    for amount in ("1.00", "1.00", "331.34", "666.66"):
        refund(purchase, amount)

    assert installment_rows(purchase)[2] == (D("333.34"), D("8.00"), InstallmentStatus.WAIVED)
    purchase.plan.refresh_from_db()
    assert purchase.plan.status == PlanStatus.REFUNDED
    assert sum(r.fees_waived for r in Refund.objects.filter(purchase=purchase)) == D("24.00")
    assert ledger_check().ok


def test_a_refund_restores_a_negative_account_once_available_is_back_to_zero():
    account = open_account(base_limit="1000.00")
    purchase = buy(account, "900.00", term=3, now=BOUGHT)
    limit_set(
        account=account,
        new_base_limit=D("500.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE],
        run_id=2,
        now=shanghai(2026, 1, 10, 2, 0),
    )
    refund(purchase, "400.00")
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.RESTORED, D("0.00"))
    assert account.status_reason_codes == [ReasonCode.REFUNDED_ABOVE_ZERO]
    assert ledger_check().ok


def test_a_refund_above_what_remains_is_refused_and_writes_nothing():
    account = open_account()
    purchase = buy(account, "500.00", term=3, now=BOUGHT)
    refund(purchase, "200.00")
    before = row_counts()
    with pytest.raises(RefundTooLarge) as refused:
        refund(purchase, "300.01")
    assert refused.value.code == "refund_above_purchase"
    assert refused.value.extra == {"refundable": "300.00"}
    assert row_counts() == before


@pytest.mark.parametrize("amount", ["0", "-10.00", "0.001"])
def test_a_bad_refund_amount_is_refused_and_writes_nothing(amount):
    account = open_account()
    purchase = buy(account, "500.00", now=BOUGHT)
    before = row_counts()
    with pytest.raises(InvalidAmount):
        purchase_refund(purchase=purchase, amount=amount, idempotency_key="r", now=LATER)
    assert row_counts() == before


def test_replaying_a_refund_refunds_once_and_another_amount_under_the_key_is_refused():
    account = open_account()
    purchase = buy(account, "500.00", now=BOUGHT)
    first = refund(purchase, "100.00", idempotency_key="ret-1")
    again = refund(purchase, "100.00", idempotency_key="ret-1")
    assert again.pk == first.pk
    purchase.refresh_from_db()
    assert purchase.refunded_amount == D("100.00")
    before = row_counts()
    with pytest.raises(IdempotencyKeyConflict):
        refund(purchase, "150.00", idempotency_key="ret-1")
    assert row_counts() == before


def test_a_refund_to_a_closed_account_is_refused_and_writes_nothing():
    # A closed line holds no balance, so money coming back has nowhere to go here: the
    # merchant must return it another way. (It used to fail with an IntegrityError.)
    account = open_account()
    purchase = buy(account, "300.00", term=1, now=BOUGHT)
    repay(account, "300.00", now=shanghai(2026, 2, 1, 9, 0))
    account_close(account=account, now=shanghai(2026, 2, 2, 9, 0))
    before = row_counts()
    with pytest.raises(AccountClosed) as refused:
        refund(purchase, "100.00", now=shanghai(2026, 2, 3, 9, 0))
    assert (refused.value.code, refused.value.http_status) == ("account_closed", 409)
    assert row_counts() == before


def test_money_a_refund_returns_pays_the_customers_other_open_plans_first():
    from credit.models import Repayment, RepaymentChannel

    account = open_account()
    returned = buy(account, "300.00", term=1, now=BOUGHT)
    repay(account, "300.00", now=shanghai(2026, 2, 1, 9, 0))
    other = buy(account, "200.00", term=1, now=shanghai(2026, 2, 1, 10, 0))  # due 10 March

    with capture_events() as events:
        result = refund(returned, "300.00", now=shanghai(2026, 2, 2, 9, 0))

    assert result.credit_balance_added == D("300.00")
    account.refresh_from_db()
    # The balance paid the other plan's installment (the notice promised it pays the next bill).
    assert (account.credit_balance, account.outstanding_principal) == (D("100.00"), D("0.00"))
    assert other.plan.installments.get().status == InstallmentStatus.PAID
    paid = Repayment.objects.get(account=account, channel=RepaymentChannel.CREDIT_BALANCE)
    assert (paid.amount, paid.idempotency_key) == (
        D("200.00"),
        f"credit-balance:refund:{result.pk}",
    )
    assert [
        e.context["from_credit_balance"] for e in events if e.event == "REPAYMENT_RECEIVED"
    ] == [True]
    assert ledger_check().ok


def test_a_purchase_on_an_account_holding_a_balance_is_paid_from_it():
    account = open_account()
    purchase = buy(account, "300.00", term=1, now=BOUGHT)
    repay(account, "300.00", now=shanghai(2026, 2, 1, 9, 0))
    refund(purchase, "120.00", now=shanghai(2026, 2, 2, 9, 0))  # a balance of 120.00

    second = buy(account, "300.00", term=3, now=shanghai(2026, 2, 3, 9, 0))

    account.refresh_from_db()
    # 120.00 pays the first installment (100.00 + fee 2.40), then 17.60 of the second's
    # principal: its period has not started, so none of its fee.
    assert (account.credit_balance, account.outstanding_principal) == (D("0.00"), D("182.40"))
    first, then, _last = second.plan.installments.order_by("sequence")
    assert (first.fee_paid, first.principal_paid, first.status) == (
        D("2.40"),
        D("100.00"),
        InstallmentStatus.PAID,
    )
    assert (then.fee_paid, then.principal_paid, then.status) == (
        D("0.00"),
        D("17.60"),
        InstallmentStatus.PENDING,
    )
    assert second.account.credit_balance == D("0.00")
    assert ledger_check().ok


def test_a_partial_refund_of_a_repaid_purchase_returns_the_fee_paid_on_that_principal():
    account = open_account()
    purchase = buy(account, "1000.00", term=3, now=BOUGHT)  # 3 × (333.33… + 8.00)
    # Everything, once the last period has started (so every fee was owed and paid).
    repay(account, "1024.00", now=shanghai(2026, 4, 1, 9, 0))

    first = refund(purchase, "400.00", now=shanghai(2026, 4, 2, 9, 0))
    rest = refund(purchase, "600.00", now=shanghai(2026, 4, 3, 9, 0))

    # From the last installment back: 333.34 of it (its whole fee, 8.00) and 66.66 of the
    # second (a fifth of its fee, 1.60); then the rest, every cent of fee with it.
    assert (first.fees_returned, first.credit_balance_added) == (D("9.60"), D("409.60"))
    assert (rest.fees_returned, rest.credit_balance_added) == (D("14.40"), D("614.40"))
    account.refresh_from_db()
    assert account.credit_balance == D("1024.00")
    assert [(i.principal_paid_refunded, i.fee_returned) for i in installments(purchase)] == [
        (D("333.33"), D("8.00")),
        (D("333.33"), D("8.00")),
        (D("333.34"), D("8.00")),
    ]
    assert ledger_check().ok


def installments(purchase):
    return list(purchase.plan.installments.order_by("sequence"))
