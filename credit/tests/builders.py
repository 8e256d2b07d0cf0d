"""Arrange helpers for the credit service tests: everything is built through the services.

Unlike `factories.CreditAccountFactory`, `open_account` goes through `account_open`, so the
account has its opening LimitChange and `credit.ledger_check` holds on it from the start.
"""

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.tests.factories import customer
from conftest import shanghai
from core.events import events_published
from credit.models import CreditAccount, FeeSchedule, FeeScheduleTerm, Merchant, Purchase, Repayment
from credit.services import account_open, purchase_authorize, repayment_apply
from credit.tests.factories import MerchantFactory

D = Decimal
OPENED_AT = shanghai(2026, 1, 5, 9, 0)
LAUNCH_RATES = {1: "0", 3: "0.008000", 6: "0.007500", 9: "0.007000", 12: "0.006800", 24: "0.006500"}
_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


def launch_fee_schedule() -> FeeSchedule:
    """The active schedule; re-creates migration 0003's launch pricing after a flush.

    `transaction=True` tests flush every table, the data migration's rows included.
    """
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
    *, base_limit: Decimal | str = "10000.00", due_day: int = 10, now: datetime = OPENED_AT
) -> CreditAccount:
    launch_fee_schedule()  # a reused test database may have been flushed by a transactional test
    return account_open(customer=customer(), base_limit=D(base_limit), due_day=due_day, now=now)


def merchant(**kwargs) -> Merchant:
    return MerchantFactory(**kwargs)


def buy(
    account: CreditAccount,
    amount: Decimal | str,
    *,
    now: datetime,
    term: int = 3,
    shop: Merchant | None = None,
    idempotency_key: str | None = None,
) -> Purchase:
    return purchase_authorize(
        account=account,
        merchant=shop or merchant(),
        amount=D(amount),
        term=term,
        idempotency_key=idempotency_key or key("buy"),
        now=now,
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


@dataclass(frozen=True)
class Published:
    event: str
    user_id: int
    context: dict
    dedupe_key: str


@contextmanager
def capture_events() -> Iterator[list[Published]]:
    """Every event published (the outbox's input) while the block runs."""
    seen: list[Published] = []

    def receiver(sender, notices, now, **kwargs):
        seen.extend(Published(str(n.event), n.user.pk, n.context, n.dedupe_key) for n in notices)

    events_published.connect(receiver, dispatch_uid="tests-capture-events", weak=False)
    try:
        yield seen
    finally:
        events_published.disconnect(dispatch_uid="tests-capture-events")


def row_counts() -> dict[str, int]:
    """How many rows each credit table holds, to prove a refused call wrote nothing."""
    from django.apps import apps
    from django_fsm_log.models import StateLog

    models = [*apps.get_app_config("credit").get_models(), StateLog]
    return {m._meta.label: m.objects.count() for m in models}
