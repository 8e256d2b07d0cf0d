"""Property tests (hypothesis): the money rules hold for any amount, term, date and sequence.

- plans: installments sum exactly to the principal (and fees to the fee), on due dates;
- allocations: any sequence of repayments is allocated to the cent, the ledger agreeing;
- refunds: any sequence of partial refunds waives fees in proportion, to the cent;
- the annualised rate equals an independent IRR (float bisection written here) within 1e-4,
  rises with the fee rate, and never exceeds the worst case the cap is checked on.
"""

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shanghai
from credit.ledger_check import ledger_check
from credit.models import AllocationComponent, InstallmentStatus, PlanStatus
from credit.models.fees import SUPPORTED_TERMS
from credit.money import CENT, quantize
from credit.pricing import MIN_DAYS_TO_FIRST_DUE, build_quote
from credit.services import purchase_refund
from credit.services.fees import fee_schedule_worst_rate
from testkit.credit import buy, key, launch_fee_schedule, open_account, repay

D = Decimal
PURE = settings(max_examples=300, deadline=None, database=None)
DB = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

terms = st.sampled_from(SUPPORTED_TERMS)
due_days = st.integers(min_value=1, max_value=31)
purchase_dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))
monthly_rates = st.integers(min_value=0, max_value=20_000).map(lambda n: D(n) / 1_000_000)


def cents(low: int, high: int):
    return st.integers(min_value=low, max_value=high).map(lambda n: D(n) / 100)


@st.composite
def purchases(draw):
    """(amount, term) with at least a cent of principal per installment."""
    term = draw(terms)
    amount = draw(cents(term, 5_000_000))
    return amount, term


# --- plans ------------------------------------------------------------------------------


@PURE
@given(purchase=purchases(), rate=monthly_rates, bought=purchase_dates, due_day=due_days)
def test_a_plan_sums_exactly_to_its_principal_for_any_amount_and_term(
    purchase, rate, bought, due_day
):
    amount, term = purchase
    quote = build_quote(
        amount=amount, term=term, monthly_fee_rate=rate, purchase_date=bought, due_day=due_day
    )
    principals = [p.principal for p in quote.periods]
    assert len(principals) == term
    assert sum(principals) == amount
    assert all(p >= CENT and p == quantize(p) for p in principals)
    assert max(principals) - min(principals) < CENT * term  # even split, remainder last
    assert principals[-1] == max(principals)
    assert quote.total_fee == quantize(amount * rate * term)
    dates = [p.due_date for p in quote.periods]
    assert dates == sorted(set(dates))
    assert MIN_DAYS_TO_FIRST_DUE <= (dates[0] - bought).days <= 46
    assert all(d.day == due_day or (d.day < due_day and (d + timedelta(1)).day == 1) for d in dates)


# --- the annualised rate ----------------------------------------------------------------


def reference_irr(amount: Decimal, bought: date, payments: list[tuple[date, Decimal]]) -> float:
    """Independent XIRR: float bisection on NPV(r) = −amount + Σ pay / (1 + r)^(days / 365)."""

    def npv(rate: float) -> float:
        return -float(amount) + sum(
            float(pay) / (1 + rate) ** ((when - bought).days / 365) for when, pay in payments
        )

    low, high = 0.0, 1.0
    while npv(high) > 0:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if npv(mid) > 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@PURE
@given(purchase=purchases(), rate=monthly_rates, bought=purchase_dates, due_day=due_days)
def test_the_annualised_rate_matches_an_independent_irr(purchase, rate, bought, due_day):
    amount, term = purchase
    quote = build_quote(
        amount=amount, term=term, monthly_fee_rate=rate, purchase_date=bought, due_day=due_day
    )
    expected = reference_irr(amount, bought, [(p.due_date, p.total) for p in quote.periods])
    assert abs(float(quote.annual_rate) - expected) < 1e-4


@PURE
@given(
    purchase=purchases(),
    rates=st.lists(monthly_rates, min_size=2, max_size=2, unique=True).map(sorted),
    bought=purchase_dates,
    due_day=due_days,
)
def test_the_annualised_rate_rises_with_the_fee_rate(purchase, rates, bought, due_day):
    amount, term = purchase
    low, high = (
        build_quote(
            amount=amount, term=term, monthly_fee_rate=r, purchase_date=bought, due_day=due_day
        )
        for r in rates
    )
    assert low.annual_rate <= high.annual_rate
    if high.total_fee > low.total_fee:
        assert low.annual_rate < high.annual_rate


@pytest.mark.django_db
@settings(max_examples=200, deadline=None, database=None)
@given(term=st.sampled_from([3, 6, 9, 12, 24]), bought=purchase_dates, due_day=due_days)
def test_no_customer_is_quoted_above_the_worst_case_the_cap_was_checked_on(term, bought, due_day):
    schedule = launch_fee_schedule()
    quote = build_quote(
        amount=D("10000.00"),
        term=term,
        monthly_fee_rate=schedule.monthly_rate(term),
        purchase_date=bought,
        due_day=due_day,
    )
    assert quote.annual_rate <= _worst_rate(schedule.pk, term)


_worst: dict[tuple[int, int], Decimal] = {}


def _worst_rate(schedule_id: int, term: int) -> Decimal:
    if (schedule_id, term) not in _worst:
        _worst[(schedule_id, term)] = fee_schedule_worst_rate(
            schedule=launch_fee_schedule(), term=term
        )
    return _worst[(schedule_id, term)]


# --- repayments and refunds on the database (each example rolled back) ----------------

BOUGHT = shanghai(2026, 1, 6, 12, 0)


@st.composite
def books(draw):
    """A few purchases on one account, then a sequence of repayments."""
    bought = draw(st.lists(purchases().filter(lambda p: p[0] <= 20_000), min_size=1, max_size=3))
    payments = draw(st.lists(cents(1, 3_000_000), min_size=1, max_size=6))
    return bought, payments


@pytest.mark.django_db
@DB
@given(book=books())
def test_any_sequence_of_repayments_is_allocated_to_the_cent(book):
    bought, payments = book
    # The arithmetic of any amount, an overpayment too: no prepayment cap in the way here.
    with transaction.atomic(), override_settings(CREDIT_PREPAYMENT_ALLOWANCE=D("100000000.00")):
        account = open_account(base_limit="100000.00")
        for amount, term in bought:
            buy(account, amount, term=term, now=BOUGHT)
        owed_before = sum((i.amount_due for i in account.installments.all()), start=D("0.00"))
        for n, amount in enumerate(payments):
            repayment = repay(account, amount, now=BOUGHT + timedelta(days=20 + n))
            allocations = list(repayment.allocations.all())
            assert sum(a.amount for a in allocations) == amount
            assert all(a.amount > 0 for a in allocations)
        account.refresh_from_db()
        owed_after = sum((i.amount_due for i in account.installments.all()), start=D("0.00"))
        paid_in = sum(payments, start=D("0.00"))
        # Every yuan went to what was owed or to the credit balance, nothing lost or made up;
        # fees of periods not started are waived once their principal is prepaid, not paid.
        waived = sum((r.fees_waived for r in account.repayments.all()), start=D("0.00"))
        assert owed_before - owed_after - waived + account.credit_balance == paid_in
        assert account.credit_balance == max(D("0.00"), paid_in - (owed_before - waived))
        credit_rows = sum(
            a.amount
            for r in account.repayments.all()
            for a in r.allocations.filter(component=AllocationComponent.CREDIT_BALANCE)
        )
        assert credit_rows == account.credit_balance
        report = ledger_check()
        assert report.ok, report.format()
        transaction.set_rollback(True)


@st.composite
def refund_runs(draw):
    amount, term = draw(purchases().filter(lambda p: p[0] <= 20_000))
    repaid = draw(st.sampled_from([D("0"), D("0.5"), D("1")])) * amount
    slices = draw(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5))
    return amount, term, quantize(repaid), slices


@pytest.mark.django_db
@DB
@given(run=refund_runs())
def test_any_sequence_of_refunds_waives_fees_to_the_cent(run):
    amount, term, repaid, slices = run
    with transaction.atomic():
        account = open_account(base_limit="100000.00")
        purchase = buy(account, amount, term=term, now=BOUGHT)
        if repaid:
            repay(account, repaid, now=BOUGHT + timedelta(days=10))
        # Refund slices in proportion to the drawn weights: cut at rounded cumulative shares, so
        # the parts never go negative and add up to the amount (rounding each part alone can
        # overshoot it: 0.07 in weights 1,1,4,4,1 rounds to 0.01+0.01+0.03+0.03 = 0.08).
        total, cuts = sum(slices), [D("0.00")]
        for upto in range(1, len(slices)):
            cuts.append(quantize(amount * sum(slices[:upto]) / total))
        cuts.append(amount)
        parts = [high - low for low, high in pairwise(cuts)]
        for part in (p for p in parts if p > 0):
            purchase_refund(purchase=purchase, amount=part, idempotency_key=key("r"), now=BOUGHT)
        purchase.refresh_from_db()
        plan = purchase.plan
        plan.refresh_from_db()
        assert purchase.refunded_amount == amount
        assert plan.status == PlanStatus.REFUNDED
        assert not plan.installments.filter(
            status__in=[InstallmentStatus.PENDING, InstallmentStatus.OVERDUE]
        ).exists()
        for inst in plan.installments.all():
            assert inst.amount_due == 0
        account.refresh_from_db()
        assert account.outstanding_principal == 0
        # Refunded in full, the purchase cost nothing: all the customer paid is theirs again.
        assert account.credit_balance == repaid
        report = ledger_check()
        assert report.ok, report.format()
        transaction.set_rollback(True)
