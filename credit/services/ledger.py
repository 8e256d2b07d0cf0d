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
    lines = [line for line in lines if line[1] or line[2]]
    if not lines:
        return None
    if sum(line[1] for line in lines) != sum(line[2] for line in lines):
        raise ValueError(f"unbalanced journal entry for {reference}: {lines}")
    entry = JournalEntry.objects.create(
        kind=kind, account=account, reference=reference, memo=memo, created_at=now
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, ledger_account=acct, account=account, debit=dr, credit=cr)
        for acct, dr, cr in lines
    )
    return entry


def journal_post_many(
    *, account: CreditAccount, entries: list[tuple[str, str, list[Line]]], now: datetime
) -> list[JournalEntry]:
    """Post several balanced entries (kind, reference, lines) with two INSERTs in all.

    The same rules as `journal_post`; the balance trigger checks every entry the one lines
    statement touched. Used on the purchase path, where each round trip counts.
    """
    wanted = []
    for kind, reference, lines in entries:
        lines = [line for line in lines if line[1] or line[2]]
        if not lines:
            continue
        if sum(line[1] for line in lines) != sum(line[2] for line in lines):
            raise ValueError(f"unbalanced journal entry for {reference}: {lines}")
        wanted.append((kind, reference, lines))
    if not wanted:
        return []
    created = JournalEntry.objects.bulk_create(
        JournalEntry(kind=kind, account=account, reference=reference, created_at=now)
        for kind, reference, _lines in wanted
    )
    JournalLine.objects.bulk_create(
        JournalLine(entry=entry, ledger_account=acct, account=account, debit=dr, credit=cr)
        for entry, (_kind, _reference, lines) in zip(created, wanted, strict=True)
        for acct, dr, cr in lines
    )
    return created


__all__ = ["L", "credit", "debit", "journal_post", "journal_post_many"]
