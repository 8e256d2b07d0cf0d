"""Reads of servicing data for the admin, the portal and the risk engine."""

from datetime import date

from django.db.models import QuerySet

from credit.models import CreditAccount
from credit.servicing.models import (
    Acceleration,
    AccelerationStatus,
    BusinessDay,
    DelinquencyBucket,
    DelinquencyChange,
)


def business_days_recent(*, limit: int = 30) -> QuerySet[BusinessDay]:
    return BusinessDay.objects.order_by("-business_date")[:limit]


def delinquency_history(*, account: CreditAccount) -> QuerySet[DelinquencyChange]:
    """The account's bucket changes, newest first."""
    return DelinquencyChange.objects.filter(account=account).order_by("-business_date")


def delinquency_bucket_on(*, account: CreditAccount, on: date) -> str:
    """The account's bucket as of the close of `on` (the last change up to that date)."""
    change = (
        DelinquencyChange.objects.filter(account=account, business_date__lte=on)
        .order_by("-business_date")
        .values_list("new_bucket", flat=True)
        .first()
    )
    return change or DelinquencyBucket.CURRENT


def acceleration_active(*, account: CreditAccount) -> Acceleration | None:
    return Acceleration.objects.filter(account=account, status=AccelerationStatus.ACTIVE).first()


def accelerations_active(*, account: CreditAccount) -> QuerySet[Acceleration]:
    """The account's accelerations in force, newest first (the portal lists them)."""
    return account.accelerations.filter(status=AccelerationStatus.ACTIVE).order_by("-pk")
