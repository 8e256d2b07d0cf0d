"""Double-entry journal: append-only entries whose lines balance (invariant 7).

We keep the small version rather than django-hordak: hordak brings django-money, MPTT
account trees and its own currency model for a multi-currency world; we have one currency,
a fixed chart of accounts and need per-customer sub-ledgers that join to our own tables.
The database enforces balance (a deferred constraint trigger) and append-only (triggers
that refuse UPDATE and DELETE), both created in credit's migrations.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.models.accounts import CreditAccount
from credit.models.fields import MoneyField


class LedgerAccount(models.TextChoices):
    RECEIVABLE_PRINCIPAL = "RECEIVABLE_PRINCIPAL", _("Receivable: principal")
    RECEIVABLE_FEE = "RECEIVABLE_FEE", _("Receivable: fees")
    RECEIVABLE_PENALTY = "RECEIVABLE_PENALTY", _("Receivable: penalties")
    MERCHANT_PAYABLE = "MERCHANT_PAYABLE", _("Payable to merchants")
    CUSTOMER_CREDIT = "CUSTOMER_CREDIT", _("Customer credit balances")
    CASH = "CASH", _("Cash (collection account)")
    FEE_INCOME = "FEE_INCOME", _("Fee income")
    PENALTY_INCOME = "PENALTY_INCOME", _("Penalty income")
    WRITE_OFF = "WRITE_OFF", _("Write-off expense")


class JournalEntryKind(models.TextChoices):
    PURCHASE = "PURCHASE", _("Purchase")
    FEE = "FEE", _("Fee")
    PENALTY = "PENALTY", _("Penalty")
    REPAYMENT = "REPAYMENT", _("Repayment")
    REFUND = "REFUND", _("Refund")
    FEE_WAIVER = "FEE_WAIVER", _("Fee waiver")
    FEE_RETURN = "FEE_RETURN", _("Fee returned")
    PENALTY_WAIVER = "PENALTY_WAIVER", _("Penalty waiver")
    PENALTY_RETURN = "PENALTY_RETURN", _("Penalty returned")
    WRITE_OFF = "WRITE_OFF", _("Write-off")


class JournalEntry(models.Model):
    kind = models.CharField(max_length=16, choices=JournalEntryKind.choices)
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="journal_entries"
    )
    # What caused it, e.g. "purchase:42"; lets an auditor walk from a row to its entries.
    reference = models.CharField(max_length=64, db_index=True)
    memo = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")

    def __str__(self):
        return f"{self.kind} {self.reference}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    ledger_account = models.CharField(max_length=24, choices=LedgerAccount.choices)
    # Per-customer sub-ledger, so balances per account are derivable from the journal.
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="journal_lines"
    )
    debit = MoneyField(default=0)
    credit = MoneyField(default=0)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journal_line_one_sided_positive",
            )
        ]
        indexes = [
            models.Index(fields=["account", "ledger_account"], name="journal_line_subledger")
        ]

    def __str__(self):
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.ledger_account} {side}"
