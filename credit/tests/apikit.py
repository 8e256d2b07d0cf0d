"""Arrange helpers for the API and portal tests: accounts in each state and merchants with
their API keys, built by the services (on testkit.credit), and clients that authenticate the
way real callers do (token, API key, session)."""

import uuid
from decimal import Decimal

from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.reasons import ReasonCode
from credit.models import CreditAccount, Merchant
from credit.services import account_close, account_freeze, limit_set
from credit.services.merchants import merchant_create
from testkit.credit import OPENED_AT, buy, open_account

D = Decimal


def new_key() -> str:
    return uuid.uuid4().hex


def shop(name="演示商城") -> tuple[Merchant, str]:
    return merchant_create(name=name, now=OPENED_AT)


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
    _token, raw = AuthToken.objects.create(user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def merchant_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client
