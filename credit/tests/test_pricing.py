"""Due dates, splitting and the quote (pure functions, no database)."""

from datetime import date
from decimal import Decimal

import pytest

from credit.money import parse_amount, quantize, split_evenly
from credit.pricing import (
    MIN_DAYS_TO_FIRST_DUE,
    annualised_rate,
    build_quote,
    due_date_in,
    installment_due_dates,
)

D = Decimal


@pytest.mark.parametrize(
    ("year", "month", "due_day", "expected"),
    [
        (2026, 2, 29, date(2026, 2, 28)),
        (2026, 2, 30, date(2026, 2, 28)),
        (2026, 2, 31, date(2026, 2, 28)),
        (2028, 2, 29, date(2028, 2, 29)),  # leap year
        (2028, 2, 31, date(2028, 2, 29)),
        (2026, 4, 31, date(2026, 4, 30)),
        (2026, 1, 31, date(2026, 1, 31)),
        (2026, 12, 31, date(2026, 12, 31)),
        (2026, 6, 1, date(2026, 6, 1)),
    ],
)
def test_a_due_day_is_clamped_to_the_months_last_day(year, month, due_day, expected):
    assert due_date_in(year, month, due_day) == expected


def test_due_day_31_follows_every_month_end_across_a_leap_february():
    dates = installment_due_dates(date(2027, 11, 10), 31, 6)
    assert dates == [
        date(2027, 11, 30),
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


def test_due_day_30_comes_back_to_the_30th_after_february():
    dates = installment_due_dates(date(2026, 1, 1), 30, 3)
    assert dates == [date(2026, 1, 30), date(2026, 2, 28), date(2026, 3, 30)]


def test_a_schedule_crosses_the_year_end():
    assert installment_due_dates(date(2026, 11, 20), 10, 3) == [
        date(2026, 12, 10),
        date(2027, 1, 10),
        date(2027, 2, 10),
    ]


@pytest.mark.parametrize(
    ("purchased", "due_day", "first_due"),
    [
        (date(2026, 3, 10), 25, date(2026, 3, 25)),  # exactly 15 days: this month
        (date(2026, 3, 11), 25, date(2026, 4, 25)),  # 14 days: next month
        (date(2026, 1, 31), 1, date(2026, 3, 1)),  # Feb 1 is only a day away
        (date(2026, 2, 13), 31, date(2026, 2, 28)),  # February's end is 15 days away
        (date(2026, 2, 14), 31, date(2026, 3, 31)),
        (date(2026, 12, 20), 5, date(2027, 1, 5)),
    ],
)
def test_the_first_due_date_is_at_least_fifteen_days_after_the_purchase(
    purchased, due_day, first_due
):
    [first] = installment_due_dates(purchased, due_day, 1)
    assert first == first_due
    assert MIN_DAYS_TO_FIRST_DUE <= (first - purchased).days <= 46


def test_principal_is_split_evenly_with_the_remainder_on_the_last_period():
    assert split_evenly(D("100.00"), 3) == [D("33.33"), D("33.33"), D("33.34")]
    assert split_evenly(D("0.05"), 6) == [D("0.00")] * 5 + [D("0.05")]
    assert split_evenly(D("1200.00"), 12) == [D("100.00")] * 12


def test_money_rounds_half_up_and_refuses_floats():
    assert quantize(D("0.005")) == D("0.01")
    assert quantize(D("0.004999")) == D("0.00")
    assert quantize(D("-0.005")) == D("-0.01")
    with pytest.raises(TypeError):
        quantize(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_amount(0.1)


@pytest.mark.parametrize(
    ("raw", "expected"), [("12", D("12.00")), (" 12.5 ", D("12.50")), (D("3.10"), D("3.10"))]
)
def test_amounts_are_parsed_exactly(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize(("raw", "error"), [("1.001", "too_many_decimals"), ("x", "not_a_number")])
def test_bad_amounts_name_what_is_wrong(raw, error):
    with pytest.raises(ValueError, match=error):
        parse_amount(raw)


def test_a_quote_lists_each_period_and_its_totals():
    quote = build_quote(
        amount=D("3000.00"),
        term=3,
        monthly_fee_rate=D("0.008"),
        purchase_date=date(2026, 3, 10),
        due_day=10,
    )
    assert [(p.sequence, p.due_date, p.principal, p.fee) for p in quote.periods] == [
        (1, date(2026, 4, 10), D("1000.00"), D("24.00")),
        (2, date(2026, 5, 10), D("1000.00"), D("24.00")),
        (3, date(2026, 6, 10), D("1000.00"), D("24.00")),
    ]
    assert (quote.total_fee, quote.total) == (D("72.00"), D("3072.00"))
    body = quote.as_dict()
    assert body["periods"][0] == {
        "sequence": 1,
        "due_date": "2026-04-10",
        "principal": "1000.00",
        "fee": "24.00",
        "total": "1024.00",
    }
    # A flat 0.8 % a month on the original principal is far more than 9.6 % a year.
    assert D("0.15") < quote.annual_rate < D("0.16")


def test_no_fee_means_a_zero_rate():
    assert annualised_rate(date(2026, 1, 1), D("100"), [(date(2026, 2, 1), D("100"))]) == 0


def test_the_annualised_rate_of_a_simple_loan_is_its_yearly_interest():
    # 100 now, 110 in exactly 365 days: 10 % a year.
    rate = annualised_rate(date(2026, 1, 1), D("100"), [(date(2027, 1, 1), D("110"))])
    assert rate == D("0.100000")
