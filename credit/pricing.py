"""Pure pricing: due dates, installment schedules and the annualised rate. No database.

The annualised rate is the IRR of the customer's actual cash flows — the principal
received on the purchase date, then each installment (principal + fee) on its due date —
compounded annually on an actual/365 day count (the XIRR convention), so it includes every
fee and reflects the real timing. It is what we show and what the legal cap is checked on.
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from credit.money import ZERO, quantize, split_evenly

RATE_PLACES = Decimal("0.000001")


def due_date_in(year: int, month: int, due_day: int) -> date:
    """The due day in that month, clamped to the month's last day (due day 31 → Feb 28/29)."""
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


# The first due date is the first due day at least this many days after the purchase, so a
# first period runs 15 to about 45 days (like a card's statement cycle plus grace).
MIN_DAYS_TO_FIRST_DUE = 15


def installment_due_dates(purchase_date: date, due_day: int, term: int) -> list[date]:
    """Monthly due dates on the account's due day (clamped to the month's end)."""
    first = 0
    while (
        due_date_in(*add_months(purchase_date.year, purchase_date.month, first), due_day)
        - purchase_date
    ).days < (MIN_DAYS_TO_FIRST_DUE):
        first += 1
    return [
        due_date_in(*add_months(purchase_date.year, purchase_date.month, first + n), due_day)
        for n in range(term)
    ]


@dataclass(frozen=True)
class QuotePeriod:
    sequence: int
    due_date: date
    principal: Decimal
    fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.fee


@dataclass(frozen=True)
class Quote:
    amount: Decimal
    term_months: int
    monthly_fee_rate: Decimal
    periods: tuple[QuotePeriod, ...]
    annual_rate: Decimal

    @property
    def total_fee(self) -> Decimal:
        return sum((p.fee for p in self.periods), ZERO)

    @property
    def total(self) -> Decimal:
        return self.amount + self.total_fee

    def as_dict(self) -> dict:
        return {
            "amount": str(self.amount),
            "term_months": self.term_months,
            "monthly_fee_rate": str(self.monthly_fee_rate),
            "total_fee": str(self.total_fee),
            "total": str(self.total),
            "annual_rate": str(self.annual_rate),
            "periods": [
                {
                    "sequence": p.sequence,
                    "due_date": p.due_date.isoformat(),
                    "principal": str(p.principal),
                    "fee": str(p.fee),
                    "total": str(p.total),
                }
                for p in self.periods
            ],
        }


def build_quote(
    *, amount: Decimal, term: int, monthly_fee_rate: Decimal, purchase_date: date, due_day: int
) -> Quote:
    """Principal split evenly (remainder last); a flat fee per period on the original principal."""
    principals = split_evenly(amount, term)
    fees = split_evenly(quantize(amount * monthly_fee_rate * term), term)
    dates = installment_due_dates(purchase_date, due_day, term)
    periods = tuple(
        QuotePeriod(sequence=i + 1, due_date=d, principal=p, fee=f)
        for i, (d, p, f) in enumerate(zip(dates, principals, fees, strict=True))
    )
    rate = annualised_rate(purchase_date, amount, [(p.due_date, p.total) for p in periods])
    return Quote(
        amount=amount,
        term_months=term,
        monthly_fee_rate=monthly_fee_rate,
        periods=periods,
        annual_rate=rate,
    )


def _npv_and_slope(rate: Decimal, flows: list[tuple[Decimal, Decimal]], principal: Decimal):
    """NPV of the loan at `rate` and its derivative; flows are (years, amount)."""
    log_growth = (1 + rate).ln()
    value, slope = principal, Decimal(0)
    for years, amount in flows:
        discounted = amount / (log_growth * years).exp()
        value -= discounted
        slope += discounted * years / (1 + rate)
    return value, slope


def annualised_rate(
    start: date, principal: Decimal, payments: list[tuple[date, Decimal]]
) -> Decimal:
    """XIRR in Decimal: the r where principal = Σ payment / (1 + r)^(days/365).

    Newton's method from 10 %; for a loan's cash flows (one inflow, then outflows) the NPV
    is increasing and convex in r, so Newton from the left converges monotonically. A
    bisection fallback guards the pathological cases.
    """
    if sum(amount for _, amount in payments) <= principal:
        return Decimal("0.000000")
    with localcontext() as ctx:
        ctx.prec = 28
        flows = [(Decimal((when - start).days) / Decimal(365), amount) for when, amount in payments]
        rate = Decimal("0.1")
        for _ in range(50):
            value, slope = _npv_and_slope(rate, flows, principal)
            step = value / slope
            rate -= step
            if rate <= -1:
                break
            if abs(step) < Decimal("1e-12"):
                return rate.quantize(RATE_PLACES)
        return _bisect(flows, principal)


def _bisect(flows, principal) -> Decimal:
    low, high = Decimal(0), Decimal(100)
    for _ in range(100):
        mid = (low + high) / 2
        if _npv_and_slope(mid, flows, principal)[0] > 0:
            high = mid
        else:
            low = mid
    return ((low + high) / 2).quantize(RATE_PLACES)


DAYS_PER_YEAR = 365


def daily_rate_annualised(daily_rate: Decimal) -> Decimal:
    """A charge accruing daily (a penalty, revolving interest), as a yearly rate: × 365.

    Simple, not compounded: it is how a daily rate is quoted against the legal cap, and the
    lower of the two readings, so a rate it refuses is above the cap by either reading."""
    return (daily_rate * DAYS_PER_YEAR).quantize(RATE_PLACES)
