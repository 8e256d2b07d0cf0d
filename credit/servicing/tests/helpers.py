"""Arrange helpers for servicing tests: closes at fixed instants (the ledger check after every
one), and what they changed. Accounts and purchases come from testkit.credit."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django_fsm_log.models import StateLog

from conftest import shanghai
from credit.models import (
    CreditAccount,
    Installment,
    JournalLine,
    LimitChange,
)
from credit.servicing.models import BusinessDay
from credit.servicing.services import business_day_close
from testkit.credit import assert_ledger_holds

D = Decimal
# Servicing's accounts open on 2 January 2026 (testkit.credit.open_account(now=OPENED_AT)).
OPENED_AT = shanghai(2026, 1, 2, 9, 0)


def close_instant(day: date) -> datetime:
    """When beat runs the close of `day`: 00:30 that day, Asia/Shanghai."""
    return shanghai(day.year, day.month, day.day, 0, 30)


def close(day: date, *, now: datetime | None = None) -> list[BusinessDay]:
    closed = business_day_close(business_date=day, now=now or close_instant(day))
    assert_ledger_holds()
    return closed


def close_through(first: date, last: date) -> None:
    """Close every day from `first` to `last`, each on time."""
    day = first
    while day <= last:
        close(day)
        day += timedelta(days=1)


def installments(account: CreditAccount) -> list[Installment]:
    return list(Installment.objects.filter(account=account).order_by("due_date", "sequence"))


def state_logs(account: CreditAccount) -> list[tuple[str, str, str]]:
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
