"""Arrange helpers for servicing tests: accounts built through the credit services, closes at
fixed instants, the events they publish, and the invariants checked after every close."""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Sum

from accounts.roles import Role
from accounts.tests.factories import UserFactory, customer
from conftest import shanghai
from credit.models import (
    CreditAccount,
    FeeSchedule,
    FeeScheduleTerm,
    Installment,
    JournalEntry,
    JournalLine,
    LimitChange,
    Purchase,
)
from credit.services import account_open, purchase_authorize, repayment_apply
from credit.servicing.models import BusinessDay
from credit.servicing.services import business_day_close
from credit.tests.factories import MerchantFactory
from notifications.events import event_published

D = Decimal
_keys = itertools.count(1)
LAUNCH_RATES = {1: "0", 3: "0.008000", 6: "0.007500", 9: "0.007000", 12: "0.006800", 24: "0.006500"}


def fee_schedule() -> FeeSchedule:
    """The active schedule (migration 0003's launch pricing; re-created after a flush)."""
    schedule = FeeSchedule.objects.filter(is_active=True).first()
    if schedule is None:
        schedule = FeeSchedule.objects.create(
            version=1, name="Launch pricing", is_active=True, created_at=shanghai(2026, 1, 1)
        )
        FeeScheduleTerm.objects.bulk_create(
            FeeScheduleTerm(schedule=schedule, term_months=term, monthly_fee_rate=D(rate))
            for term, rate in LAUNCH_RATES.items()
        )
    return schedule


def open_account(
    base_limit: str = "10000.00", *, due_day: int = 10, now: datetime | None = None
) -> CreditAccount:
    fee_schedule()
    return account_open(
        customer=customer(),
        base_limit=D(base_limit),
        due_day=due_day,
        now=now or shanghai(2026, 1, 2, 9, 0),
    )


def buy(account: CreditAccount, amount: str, *, term: int, now: datetime) -> Purchase:
    return purchase_authorize(
        account=account,
        merchant=MerchantFactory(),
        amount=D(amount),
        term=term,
        idempotency_key=f"buy-{next(_keys)}",
        now=now,
    )


def repay(account: CreditAccount, amount: str, *, now: datetime):
    return repayment_apply(
        account=account, amount=D(amount), idempotency_key=f"repay-{next(_keys)}", now=now
    )


def close_instant(day: date) -> datetime:
    """When beat runs the close of `day`: 00:30 that day, Asia/Shanghai."""
    return shanghai(day.year, day.month, day.day, 0, 30)


def close(day: date, *, now: datetime | None = None) -> list[BusinessDay]:
    closed = business_day_close(business_date=day, now=now or close_instant(day))
    assert_invariants()
    return closed


def close_through(first: date, last: date) -> None:
    """Close every day from `first` to `last`, each on time."""
    day = first
    while day <= last:
        close(day)
        day += timedelta(days=1)


def installments(account: CreditAccount) -> list[Installment]:
    return list(Installment.objects.filter(account=account).order_by("due_date", "sequence"))


def refreshed(account: CreditAccount) -> CreditAccount:
    return CreditAccount.objects.get(pk=account.pk)


def staff(role: Role | None = None, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


@dataclass(frozen=True)
class Published:
    event: str
    user_id: int
    context: dict
    dedupe_key: str


@contextmanager
def capture_events() -> Iterator[list[Published]]:
    """Every event published (the outbox's input) while the block runs."""
    seen: list[Published] = []

    def receiver(sender, event, user, context, dedupe_key, now, **kwargs):
        seen.append(Published(event, user.pk, context, dedupe_key))

    event_published.connect(receiver, dispatch_uid="servicing-tests-capture", weak=False)
    try:
        yield seen
    finally:
        event_published.disconnect(dispatch_uid="servicing-tests-capture")


def state_logs(account: CreditAccount) -> list[tuple[str, str, str]]:
    from django_fsm_log.models import StateLog

    return list(
        StateLog.objects.for_(account)
        .order_by("id")
        .values_list("source_state", "state", "transition")
    )


def limit_changes(account: CreditAccount) -> list[tuple[str, Decimal, Decimal]]:
    return list(
        LimitChange.objects.filter(account=account)
        .order_by("id")
        .values_list("kind", "old_effective_limit", "new_effective_limit")
    )


def penalty_journal(account: CreditAccount) -> Decimal:
    """Net RECEIVABLE_PENALTY debits of the account's journal."""
    totals = JournalLine.objects.filter(
        account=account, ledger_account="RECEIVABLE_PENALTY"
    ).aggregate(dr=Sum("debit"), cr=Sum("credit"))
    return (totals["dr"] or D("0")) - (totals["cr"] or D("0"))


def table_fingerprint() -> dict[str, object]:
    """Row counts and money sums of every table the close writes, to prove a no-op."""
    tables = {
        "credit_installment": "sum(penalty) || '/' || sum(days_past_due) || '/' || "
        "string_agg(status, ',' ORDER BY id)",
        "credit_creditaccount": "string_agg(status || ':' || temporary_limit || ':' || "
        "COALESCE(probation_limit_cap::text, '-'), ',' ORDER BY id)",
        "credit_journalentry": "count(*)",
        "credit_journalline": "sum(debit) || '/' || sum(credit)",
        "credit_limitchange": "count(*)",
        "credit_temporarylimitgrant": "string_agg(status, ',' ORDER BY id)",
        "django_fsm_log_statelog": "count(*)",
        "servicing_accountdelinquency": "string_agg(bucket || days_past_due, ',' "
        "ORDER BY account_id)",
        "servicing_delinquencychange": "count(*)",
        "servicing_businessday": "count(*)",
        "notifications_notification": "count(*)",
    }
    found = {}
    with connection.cursor() as cursor:
        for table, expression in tables.items():
            cursor.execute(f"SELECT count(*), {expression} FROM {table}")  # noqa: S608
            found[table] = cursor.fetchone()
    return found


def assert_invariants() -> None:
    """credit.ledger_check when it exists; else the invariants the close touches, directly."""
    try:
        from credit.ledger_check import ledger_check
    except ImportError:
        ledger_check = None
    if ledger_check is not None:
        report = ledger_check()
        assert report.ok, report.format()
        return
    for account in CreditAccount.objects.exclude(status__in=["FROZEN", "CLOSED"]):
        assert (account.status == "NEGATIVE") == (account.available < 0), account
    for entry in JournalEntry.objects.all():
        totals = entry.lines.aggregate(dr=Sum("debit"), cr=Sum("credit"))
        assert totals["dr"] == totals["cr"], entry
