"""Penalties: grace days, exact Decimal amounts (hand-computed below), the cap, idempotence and
the journal. Fee schedule v1: 0.05 % a day, cap 20 % of the overdue amount, 3 grace days."""

from datetime import date
from decimal import Decimal

import pytest

from conftest import shanghai
from credit.models import FeeSchedule, JournalEntry, JournalLine
from credit.servicing.services import business_day_close
from credit.servicing.tests.helpers import (
    OPENED_AT,
    close,
    close_through,
    installments,
    penalty_journal,
)
from testkit.credit import buy, open_account, repay

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def one_period():
    """¥1,010.00 on "pay next month" (term 1, no fee), due 10 February 2026."""
    account = open_account(now=OPENED_AT)
    buy(account, "1010.00", term=1, now=shanghai(2026, 1, 5, 12, 0))
    assert installments(account)[0].due_date == date(2026, 2, 10)
    return account


def test_no_penalty_during_the_three_grace_days(one_period):
    close_through(date(2026, 2, 10), date(2026, 2, 13))  # 3 days past due on the 13th
    inst = installments(one_period)[0]
    assert (inst.days_past_due, inst.penalty, inst.penalty_accrued_through) == (3, D("0"), None)
    assert not JournalEntry.objects.filter(account=one_period, kind="PENALTY").exists()


def test_the_first_penalty_day_is_the_fourth_day_past_due_rounded_half_up(one_period):
    # 1,010.00 × 0.0005 = 0.505 → 0.51 half-up (banker's rounding would say 0.50).
    close_through(date(2026, 2, 10), date(2026, 2, 14))
    inst = installments(one_period)[0]
    assert (inst.days_past_due, inst.penalty, inst.penalty_accrued_through) == (
        4,
        D("0.51"),
        date(2026, 2, 14),
    )
    close(date(2026, 2, 15))
    inst.refresh_from_db()
    assert inst.penalty == D("1.02")


def test_the_penalty_is_charged_on_principal_and_fee_still_due_each_day():
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    # Period 1: principal 1,000.00 + fee 24.00 (3,000 × 0.8 %) = 1,024.00 overdue.
    close_through(date(2026, 2, 10), date(2026, 2, 16))  # days 4, 5, 6 past due
    # 1,024.00 × 0.0005 = 0.512 → 0.51 a day, three days.
    assert installments(account)[0].penalty == D("1.53")
    # A partial repayment (penalty first, then fee, then principal) lowers the base:
    # 1.53 penalty + 24.00 fee + 474.47 principal → 525.53 principal left.
    repay(account, "500.00", now=shanghai(2026, 2, 16, 9, 0))
    close(date(2026, 2, 17))
    # 525.53 × 0.0005 = 0.262765 → 0.26.
    assert installments(account)[0].penalty == D("1.79")
    assert penalty_journal(account) == D("1.79") - D("1.53")


def test_the_penalty_never_exceeds_the_cap_of_the_overdue_amount(one_period):
    FeeSchedule.objects.filter(is_active=True).update(penalty_cap_ratio=D("0.001000"))
    # Cap: 1,010.00 × 0.001 = 1.01. Day 4: 0.51; day 5: 0.50 (the cap's rest); day 6: nothing.
    close_through(date(2026, 2, 10), date(2026, 2, 14))
    assert installments(one_period)[0].penalty == D("0.51")
    close(date(2026, 2, 15))
    assert installments(one_period)[0].penalty == D("1.01")
    close_through(date(2026, 2, 16), date(2026, 2, 20))
    inst = installments(one_period)[0]
    assert (inst.penalty, inst.penalty_accrued_through) == (D("1.01"), date(2026, 2, 20))
    assert penalty_journal(one_period) == D("1.01")


def test_a_later_first_close_charges_every_day_after_grace_at_once(one_period):
    # Nothing closed before: the first close sees 9 days past due, 6 of them chargeable.
    close(date(2026, 2, 19))
    inst = installments(one_period)[0]
    assert (inst.days_past_due, inst.penalty) == (9, D("0.51") * 6)
    close(date(2026, 2, 20))
    assert installments(one_period)[0].penalty == D("0.51") * 7


def test_each_day_is_charged_once_even_when_closed_again(one_period):
    close_through(date(2026, 2, 10), date(2026, 2, 14))
    business_day_close(business_date=date(2026, 2, 14), now=shanghai(2026, 2, 14, 12, 0))
    assert installments(one_period)[0].penalty == D("0.51")
    assert JournalEntry.objects.filter(account=one_period, kind="PENALTY").count() == 1


def test_penalties_post_one_balanced_entry_per_account_per_day():
    first, second = open_account(now=OPENED_AT), open_account(now=OPENED_AT)
    buy(first, "1010.00", term=1, now=shanghai(2026, 1, 5, 12, 0))
    buy(first, "2000.00", term=1, now=shanghai(2026, 1, 6, 12, 0))
    buy(second, "1010.00", term=1, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 14))
    entries = JournalEntry.objects.filter(kind="PENALTY")
    assert entries.count() == 2
    entry = entries.get(account=first)
    assert entry.reference == "penalty:2026-02-14"
    lines = sorted(
        JournalLine.objects.filter(entry=entry).values_list("ledger_account", "debit", "credit")
    )
    # 0.51 + 2,000.00 × 0.0005 = 1.00 → 1.51 for the account.
    assert lines == [
        ("PENALTY_INCOME", D("0.00"), D("1.51")),
        ("RECEIVABLE_PENALTY", D("1.51"), D("0.00")),
    ]


def test_the_repayment_waterfall_collects_the_penalty_the_close_charged(one_period):
    close_through(date(2026, 2, 10), date(2026, 2, 15))
    repay(one_period, "1011.02", now=shanghai(2026, 2, 15, 10, 0))
    inst = installments(one_period)[0]
    assert (inst.status, inst.penalty_paid) == ("PAID", D("1.02"))
    close(date(2026, 2, 16))
    inst.refresh_from_db()
    assert inst.penalty == D("1.02")
    assert penalty_journal(one_period) == D("0")
