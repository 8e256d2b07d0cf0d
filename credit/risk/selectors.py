"""Reads of risk data for the portal."""

from django.db.models import QuerySet

from credit.models import CreditAccount
from credit.risk.models import PendingLimitDecrease, PendingStatus


def pending_decreases_announced(*, account: CreditAccount) -> QuerySet[PendingLimitDecrease]:
    """Decreases announced to the customer and not yet in force, soonest first."""
    return account.pending_decreases.filter(status=PendingStatus.PENDING).order_by("effective_at")
