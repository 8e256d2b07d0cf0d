"""Arrange helpers for the API and portal tests: accounts in each state, built by the services,
and clients that authenticate the way real callers do (token, API key, session)."""

import uuid
from decimal import Decimal

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.factories import customer
from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import (
    CreditAccount,
    FeeSchedule,
    FeeScheduleTerm,
    IdempotencyRecord,
    Installment,
    InstallmentPlan,
    JournalEntry,
    JournalLine,
    LimitChange,
    Merchant,
    Purchase,
    Refund,
    Repayment,
    RepaymentAllocation,
)
from credit.services import (
    account_close,
    account_freeze,
    account_open,
    limit_set,
    purchase_authorize,
)
from credit.services.merchants import merchant_create

D = Decimal
OPENED_AT = shanghai(2026, 1, 5, 9, 0)
LAUNCH_RATES = {1: "0", 3: "0.008000", 6: "0.007500", 9: "0.007000", 12: "0.006800", 24: "0.006500"}

# Every table a credit write may touch: "nothing written" compares these counts.
WRITTEN_MODELS = (
    Purchase,
    InstallmentPlan,
    Installment,
    Repayment,
    RepaymentAllocation,
    Refund,
    JournalEntry,
    JournalLine,
    LimitChange,
    IdempotencyRecord,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def fee_schedule() -> FeeSchedule:
    """The active schedule (migration 0003's launch pricing, re-created after a flush)."""
    schedule = FeeSchedule.objects.filter(is_active=True).first()
    if schedule is None:
        schedule = FeeSchedule.objects.create(
            version=1, name="Launch pricing", is_active=True, created_at=OPENED_AT
        )
        FeeScheduleTerm.objects.bulk_create(
            FeeScheduleTerm(schedule=schedule, term_months=term, monthly_fee_rate=D(rate))
            for term, rate in LAUNCH_RATES.items()
        )
    return schedule


def new_key() -> str:
    return uuid.uuid4().hex


def open_account(base_limit="10000.00", *, language="zh-hans", **profile) -> CreditAccount:
    user = customer(**profile)
    if language != user.preferred_language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return account_open(customer=user, base_limit=D(base_limit), now=OPENED_AT)


def shop(name="演示商城") -> tuple[Merchant, str]:
    return merchant_create(name=name, now=OPENED_AT)


def buy(account, amount, *, merchant, term=3, now=None) -> Purchase:
    return purchase_authorize(
        account=account,
        merchant=merchant,
        amount=D(amount),
        term=term,
        idempotency_key=new_key(),
        now=now or timezone.now(),
    )


def account_in_state(state: str, *, merchant) -> CreditAccount:
    """An account in ACTIVE, FROZEN, NEGATIVE or CLOSED, reached through the services."""
    account = open_account("5000.00")
    now = timezone.now()
    if state == "FROZEN":
        account_freeze(account=account, reason="RISK_RULE", now=now)
    elif state == "NEGATIVE":
        buy(account, "3000.00", merchant=merchant)
        limit_set(
            account=account,
            new_base_limit=D("2000.00"),
            kind="RESCORE",
            reason_codes=[ReasonCode.RESCORE, ReasonCode.HIGH_UTILISATION],
            now=now,
        )
    elif state == "CLOSED":
        account_close(account=account, now=now)
    account.refresh_from_db()
    assert account.status == state
    return account


def customer_client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def merchant_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client
