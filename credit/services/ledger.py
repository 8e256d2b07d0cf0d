"""Posting to the double-entry journal. Every entry's lines go in with one INSERT."""

from datetime import datetime
from decimal import Decimal

from credit.models import CreditAccount, JournalEntry, JournalLine
from credit.models import LedgerAccount as L

Line = tuple[str, Decimal, Decimal]  # (ledger account, debit, credit)


def debit(ledger_account: str, amount: Decimal) -> Line:
    return (ledger_account, amount, Decimal("0.00"))


def credit(ledger_account: str, amount: Decimal) -> Line:
    return (ledger_account, Decimal("0.00"), amount)


def balanced_lines(reference: str, lines: list[Line]) -> list[Line]:
    """The entry's lines without zero-amount ones; ValueError if they do not balance."""
    lines = [line for line in lines if line[1] or line[2]]
    if sum(line[1] for line in lines) != sum(line[2] for line in lines):
        raise ValueError(f"unbalanced journal entry for {reference}: {lines}")
    return lines


def journal_post(
    *,
    kind: str,
    account: CreditAccount,
    reference: str,
    lines: list[Line],
    now: datetime,
    memo: str = "",
) -> JournalEntry | None:
    """Post one balanced entry; zero-amount lines are dropped, an empty entry posts nothing."""
    lines = balanced_lines(reference, lines)
    if not lines:
        return None
    entry = JournalEntry.objects.create(
        kind=kind, account=account, reference=reference, memo=memo, created_at=now
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, ledger_account=acct, account=account, debit=dr, credit=cr)
        for acct, dr, cr in lines
    )
    return entry


__all__ = ["L", "balanced_lines", "credit", "debit", "journal_post"]
