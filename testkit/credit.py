"""Credit accounts and their histories, built through the credit services (account_open,
purchase_authorize, repayment_apply): every account starts with its opening LimitChange, every
purchase has its plan and journal, so `credit.ledger_check` holds on what a test makes."""

import itertools
from datetime import datetime
from decimal import Decimal

from django.apps import apps
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.tests.factories import customer
from conftest import shanghai
from credit.ledger_check import ledger_check
from credit.models import CreditAccount, FeeSchedule, FeeScheduleTerm, Merchant, Purchase, Repayment
from credit.services import account_open, purchase_authorize, repayment_apply
from credit.tests.factories import MerchantFactory

D = Decimal
OPENED_AT = shanghai(2026, 1, 5, 9, 0)
# Migration 0003's launch pricing.
LAUNCH_RATES = {1: "0", 3: "0.008000", 6: "0.007500", 9: "0.007000", 12: "0.006800", 24: "0.006500"}
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


def launch_fee_schedule() -> FeeSchedule:
    """The active schedule; re-creates migration 0003's launch pricing after a flush
    (`transaction=True` tests flush every table, the data migration's rows included)."""
    schedule = FeeSchedule.objects.filter(is_active=True).first()
    if schedule is not None:
        return schedule
    schedule = FeeSchedule.objects.create(
        version=1,
        name="Launch pricing",
        is_active=True,
        created_at=OPENED_AT,
        activated_at=OPENED_AT,
    )
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=term, monthly_fee_rate=D(rate))
        for term, rate in LAUNCH_RATES.items()
    )
    return schedule


def open_account(
    base_limit: Decimal | str = "10000.00",
    *,
    due_day: int = 10,
    now: datetime = OPENED_AT,
    email: str | None = None,
    language: str | None = None,
    **profile,
) -> CreditAccount:
    """A new verified customer's account, opened by `account_open`.

    `profile` goes to CustomerProfileFactory (`province_code="44"`, `real_name=…`); `email` and
    `language` set the customer's login."""
    launch_fee_schedule()  # a reused test database may have been flushed by a transactional test
    if email is not None:
        profile["user__email"] = email
    user = customer(**profile)
    if language is not None and language != user.preferred_language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    return account_open(customer=user, base_limit=D(base_limit), due_day=due_day, now=now)


def buy(
    account: CreditAccount,
    amount: Decimal | str,
    *,
    now: datetime | None = None,
    term: int = 3,
    merchant: Merchant | None = None,
    idempotency_key: str | None = None,
) -> Purchase:
    """A purchase authorised by `purchase_authorize` (at a new merchant unless one is given;
    `now` defaults to the real clock, for tests whose requests run on it)."""
    return purchase_authorize(
        account=account,
        merchant=merchant or MerchantFactory(),
        amount=D(amount),
        term=term,
        idempotency_key=idempotency_key or key("buy"),
        now=now or timezone.now(),
    )


def repay(
    account: CreditAccount,
    amount: Decimal | str,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> Repayment:
    return repayment_apply(
        account=account, amount=D(amount), idempotency_key=idempotency_key or key("repay"), now=now
    )


def row_counts() -> dict[str, int]:
    """How many rows each credit table (and the state log) holds, to prove a refused call
    wrote nothing."""
    models = [*apps.get_app_config("credit").get_models(), StateLog]
    return {m._meta.label: m.objects.count() for m in models}


def assert_ledger_holds() -> None:
    """`credit.ledger_check` passes on every row in the database."""
    report = ledger_check()
    assert report.ok, report.format()
