"""purchase_quote / purchase_authorize: the plan, the ledger, the event; refusals write nothing."""

from datetime import date
from decimal import Decimal

import pytest

from conftest import shanghai
from core.events import EventType
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import (
    InstallmentStatus,
    JournalEntry,
    LedgerAccount,
    LimitChangeKind,
    Purchase,
)
from credit.services import (
    AccountClosed,
    AccountFrozen,
    AccountNegative,
    AmountTooLarge,
    AmountTooSmallForTerm,
    IdempotencyKeyConflict,
    InsufficientCredit,
    InvalidAmount,
    UnknownTerm,
    account_close,
    account_freeze,
    limit_set,
    purchase_authorize,
    purchase_quote,
    purchase_quotes,
)
from credit.tests.factories import MerchantFactory
from testkit.credit import buy, open_account, repay, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def test_a_purchase_becomes_a_plan_of_installments_on_the_accounts_due_day():
    account = open_account(due_day=10)
    purchase = buy(account, "1000.00", term=3, now=NOW)

    plan = purchase.plan
    installments = list(plan.installments.order_by("sequence"))
    assert [i.due_date for i in installments] == [
        date(2026, 4, 10),
        date(2026, 5, 10),
        date(2026, 6, 10),
    ]
    assert [i.principal for i in installments] == [D("333.33"), D("333.33"), D("333.34")]
    assert [i.fee for i in installments] == [D("8.00"), D("8.00"), D("8.00")]
    assert plan.total_fee == D("24.00")
    assert plan.monthly_fee_rate == D("0.008000")
    assert D("0.15") < plan.annual_rate < D("0.24")
    assert all(i.status == InstallmentStatus.PENDING for i in installments)
    account.refresh_from_db()
    assert account.outstanding_principal == D("1000.00")
    assert account.available == D("9000.00")


def test_a_purchase_posts_principal_and_fee_to_the_ledger_and_publishes_one_event():
    account = open_account()
    with capture_events() as events:
        purchase = buy(account, "600.00", term=6, now=NOW)

    entries = JournalEntry.objects.filter(reference=f"purchase:{purchase.pk}")
    lines = {
        (line.ledger_account, line.debit, line.credit)
        for entry in entries
        for line in entry.lines.all()
    }
    assert lines == {
        (LedgerAccount.RECEIVABLE_PRINCIPAL, D("600.00"), D("0.00")),
        (LedgerAccount.MERCHANT_PAYABLE, D("0.00"), D("600.00")),
        (LedgerAccount.RECEIVABLE_FEE, D("27.00"), D("0.00")),
        (LedgerAccount.FEE_INCOME, D("0.00"), D("27.00")),
    }
    assert [e.event for e in events] == [EventType.PURCHASE_CONFIRMED]
    assert events[0].context["total_fee"] == "27.00"
    assert ledger_check().ok


def test_the_interest_free_term_has_one_payment_and_no_fee():
    account = open_account(due_day=25)
    purchase = buy(account, "88.80", term=1, now=NOW)
    [installment] = purchase.plan.installments.all()
    assert (installment.due_date, installment.principal, installment.fee) == (
        date(2026, 3, 25),
        D("88.80"),
        D("0.00"),
    )
    assert purchase.plan.annual_rate == 0
    assert not JournalEntry.objects.filter(kind="FEE").exists()


def test_quotes_are_offered_for_every_term_and_write_nothing():
    account = open_account()
    before = row_counts()
    quotes = purchase_quotes(account=account, amount="1200.00", now=NOW)
    assert [q.term_months for q in quotes] == [1, 3, 6, 9, 12, 24]
    assert all(sum(p.principal for p in q.periods) == D("1200.00") for q in quotes)
    assert row_counts() == before


def test_the_quote_matches_what_is_then_authorised():
    account = open_account()
    quote = purchase_quote(account=account, amount="2400.00", term=12, now=NOW)
    purchase = buy(account, "2400.00", term=12, now=NOW)
    installments = purchase.plan.installments.order_by("sequence")
    assert [(p.due_date, p.principal, p.fee) for p in quote.periods] == [
        (i.due_date, i.principal, i.fee) for i in installments
    ]
    assert purchase.plan.annual_rate == quote.annual_rate


# --- bad input: a stable code, and nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("amount", "term", "error", "code"),
    [
        ("0", 3, InvalidAmount, "invalid_amount"),
        ("-5.00", 3, InvalidAmount, "invalid_amount"),
        ("10.005", 3, InvalidAmount, "invalid_amount"),
        ("abc", 3, InvalidAmount, "invalid_amount"),
        ("NaN", 3, InvalidAmount, "invalid_amount"),
        ("Infinity", 3, InvalidAmount, "invalid_amount"),
        ("50000.01", 3, AmountTooLarge, "amount_above_single_purchase_maximum"),
        ("100.00", 5, UnknownTerm, "unknown_term"),
        ("100.00", "x", UnknownTerm, "unknown_term"),
        ("100.00", None, UnknownTerm, "unknown_term"),
        ("0.02", 3, AmountTooSmallForTerm, "amount_too_small_for_term"),
    ],
)
def test_bad_purchase_input_is_refused_with_a_stable_code_and_writes_nothing(
    amount, term, error, code
):
    account = open_account(base_limit="100000.00")
    shop = MerchantFactory()
    before = row_counts()
    with capture_events() as events, pytest.raises(error) as refused:
        purchase_authorize(
            account=account, merchant=shop, amount=amount, term=term, idempotency_key="k", now=NOW
        )
    assert refused.value.code == code
    assert str(refused.value.message)
    assert row_counts() == before
    assert events == []


def test_the_smallest_amount_for_a_term_gives_every_installment_a_cent_and_the_picker_agrees():
    account = open_account()
    purchase = buy(account, "0.03", term=3, now=NOW)
    assert [i.principal for i in purchase.plan.installments.order_by("sequence")] == [
        D("0.01"),
        D("0.01"),
        D("0.01"),
    ]
    terms = [q.term_months for q in purchase_quotes(account=account, amount="0.06", now=NOW)]
    assert terms == [1, 3, 6]


def test_a_float_amount_is_refused_rather_than_rounded():
    account = open_account()
    with pytest.raises(InvalidAmount):
        buy(account, 0.1 + 0.2, now=NOW)  # type: ignore[arg-type]


def test_a_merchants_own_single_purchase_maximum_applies():
    account = open_account()
    shop = MerchantFactory(single_purchase_max=D("500.00"))
    with pytest.raises(AmountTooLarge):
        buy(account, "500.01", merchant=shop, now=NOW)
    assert buy(account, "500.00", merchant=shop, now=NOW).amount == D("500.00")


def test_a_purchase_above_available_credit_is_refused_and_writes_nothing():
    account = open_account(base_limit="1000.00")
    shop = MerchantFactory()
    buy(account, "600.00", merchant=shop, now=NOW)
    before = row_counts()
    with pytest.raises(InsufficientCredit) as refused:
        buy(account, "400.01", merchant=shop, now=NOW)
    assert refused.value.code == "insufficient_credit"
    assert refused.value.extra == {"available": "400.00"}
    assert row_counts() == before
    assert buy(account, "400.00", now=NOW).amount == D("400.00")  # exactly the rest is fine


def test_a_frozen_account_cannot_purchase():
    account = open_account()
    account_freeze(account=account, reason="RISK_RULE", now=NOW)
    shop = MerchantFactory()
    before = row_counts()
    with pytest.raises(AccountFrozen) as refused:
        buy(account, "10.00", merchant=shop, now=NOW)
    assert (refused.value.code, refused.value.http_status) == ("account_frozen", 409)
    assert row_counts() == before


def test_a_negative_account_cannot_purchase():
    account = open_account(base_limit="1000.00")
    buy(account, "800.00", now=NOW)
    limit_set(
        account=account,
        new_base_limit=D("500.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE],
        run_id=1,
        now=NOW,
    )
    shop = MerchantFactory()
    before = row_counts()
    with pytest.raises(AccountNegative):
        buy(account, "1.00", merchant=shop, now=NOW)
    assert row_counts() == before


def test_a_closed_account_cannot_purchase():
    account = open_account()
    account_close(account=account, now=NOW)
    shop = MerchantFactory()
    before = row_counts()
    with pytest.raises(AccountClosed):
        buy(account, "1.00", merchant=shop, now=NOW)
    assert row_counts() == before


# --- idempotency at the service level ---------------------------------------------------


def test_replaying_an_authorisation_with_the_same_key_returns_the_same_purchase_once():
    account = open_account()
    shop = MerchantFactory()
    with capture_events() as events:
        first = buy(account, "300.00", term=3, merchant=shop, idempotency_key="order-1", now=NOW)
        again = buy(account, "300.00", term=3, merchant=shop, idempotency_key="order-1", now=NOW)
    assert again.pk == first.pk
    assert Purchase.objects.count() == 1
    assert len(events) == 1
    account.refresh_from_db()
    assert account.outstanding_principal == D("300.00")


def test_a_replay_is_answered_even_after_the_account_was_frozen():
    account = open_account()
    shop = MerchantFactory()
    first = buy(account, "300.00", merchant=shop, idempotency_key="order-1", now=NOW)
    account_freeze(account=account, reason="STAFF", now=NOW)
    assert buy(account, "300.00", merchant=shop, idempotency_key="order-1", now=NOW).pk == first.pk


@pytest.mark.parametrize(
    "change", [{"amount": "300.01"}, {"term": 6}, {"other_merchant": True}], ids=str
)
def test_reusing_a_key_with_a_different_payload_is_refused_and_writes_nothing(change):
    account = open_account()
    shop = MerchantFactory()
    other = MerchantFactory()
    buy(account, "300.00", term=3, merchant=shop, idempotency_key="order-1", now=NOW)
    before = row_counts()
    with pytest.raises(IdempotencyKeyConflict) as refused:
        buy(
            account,
            change.get("amount", "300.00"),
            term=change.get("term", 3),
            merchant=other if change.get("other_merchant") else shop,
            idempotency_key="order-1",
            now=NOW,
        )
    assert (refused.value.code, refused.value.http_status) == ("idempotency_key_reused", 422)
    assert row_counts() == before


def test_the_same_key_on_two_accounts_is_two_purchases():
    shop = MerchantFactory()
    one, two = open_account(), open_account()
    a = buy(one, "10.00", merchant=shop, idempotency_key="same", now=NOW)
    b = buy(two, "10.00", merchant=shop, idempotency_key="same", now=NOW)
    assert a.pk != b.pk


def test_a_purchase_after_repayments_may_use_the_credit_freed():
    account = open_account(base_limit="1000.00")
    buy(account, "1000.00", term=1, now=NOW)
    repay(account, "400.00", now=shanghai(2026, 3, 20, 9, 0))
    assert buy(account, "400.00", now=shanghai(2026, 3, 21, 9, 0)).amount == D("400.00")
    with pytest.raises(InsufficientCredit):
        buy(account, "0.01", term=1, now=shanghai(2026, 3, 21, 9, 0))


def test_a_refusal_leaves_the_callers_transaction_usable():
    from django.db import transaction

    account = open_account()
    account_freeze(account=account, reason="STAFF", now=NOW)

    with transaction.atomic():
        with pytest.raises(AccountFrozen):
            buy(account, "100.00", now=NOW)
        # The caller carries on in the same transaction.
        assert Purchase.objects.filter(account=account).count() == 0


def test_a_due_day_changed_since_the_account_was_read_is_the_one_the_plan_uses():
    from credit.models import CreditAccount

    account = open_account(due_day=10)
    stale = CreditAccount.objects.get(pk=account.pk)
    CreditAccount.objects.filter(pk=account.pk).update(due_day=25)

    purchase = buy(stale, "300.00", term=3, now=NOW)

    assert [i.due_date.day for i in purchase.plan.installments.all()] == [25, 25, 25]
    assert ledger_check().ok
