"""Reads of risk data for the portal and appeals."""

from decimal import Decimal

from django.db.models import QuerySet

from credit.models import CreditAccount
from credit.risk.models import (
    ChallengeStatus,
    PendingLimitDecrease,
    PendingStatus,
    RiskPolicy,
    VerificationChallenge,
)


def pending_decreases_announced(*, account: CreditAccount) -> QuerySet[PendingLimitDecrease]:
    """Decreases announced to the customer and not yet in force, soonest first."""
    return account.pending_decreases.filter(status=PendingStatus.PENDING).order_by("effective_at")


def policy_limit_bounds() -> tuple[Decimal, Decimal] | None:
    """(minimum, maximum) base limit of the active risk policy, or None while there is none."""
    policy = RiskPolicy.objects.filter(is_active=True).first()
    return None if policy is None else (policy.min_limit, policy.max_limit)


def verification_open_for(*, account: CreditAccount) -> VerificationChallenge | None:
    """The verification waiting for the customer, if any (at most one: a unique index)."""
    return VerificationChallenge.objects.filter(
        account=account, status=ChallengeStatus.OPEN
    ).first()
