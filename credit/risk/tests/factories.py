"""Arrange helpers for the risk tests. Accounts and their histories go through the credit
services (account_open, purchase_authorize, repayment_apply), so every account starts with
its opening LimitChange and `credit.ledger_check` holds on it."""

import itertools
from datetime import datetime
from decimal import Decimal

from accounts.tests.factories import CustomerProfileFactory
from conftest import shanghai
from credit.models import CreditAccount, FeeSchedule, FeeScheduleTerm, Merchant
from credit.risk.models import RiskPolicy
from credit.services import account_open, purchase_authorize, repayment_apply
from credit.tests.builders import Published, capture_events  # noqa: F401 - shared
from credit.tests.factories import MerchantFactory

D = Decimal
OPENED_AT = shanghai(2025, 1, 6, 9, 0)
# The nightly run of these tests: 2026-03-10 02:00 Shanghai.
RUN_AT = shanghai(2026, 3, 10, 2, 0)
_keys = itertools.count(1)

LAUNCH_RATES = {1: "0", 3: "0.008000", 6: "0.007500", 12: "0.006800"}


def fee_schedule() -> FeeSchedule:
    """The active fee schedule (re-created after a transactional test's flush)."""
    schedule = FeeSchedule.objects.filter(is_active=True).first()
    if schedule is not None:
        return schedule
    schedule = FeeSchedule.objects.create(
        version=1, name="Launch pricing", is_active=True, created_at=OPENED_AT
    )
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=term, monthly_fee_rate=D(rate))
        for term, rate in LAUNCH_RATES.items()
    )
    return schedule


def bands(*pairs) -> list[dict]:
    """bands((300, "1000"), (600, "8000")) → the JSON a policy holds."""
    return [{"min_score": s, "limit": str(limit)} for s, limit in pairs]


def active_policy(**overrides) -> RiskPolicy:
    """An active policy (created directly; activation itself is tested on its own).

    By default every score maps to 10 000, so nothing moves unless a test says so."""
    if overrides.get("is_active", True):
        RiskPolicy.objects.filter(is_active=True).update(is_active=False)
    values = {
        "version": (
            RiskPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0
        )
        + 1,
        "name": "test policy",
        "score_bands": bands((300, "10000.00")),
        "min_limit": D("0.00"),
        "max_limit": D("100000.00"),
        "limit_step": D("100.00"),
        "raise_cooldown_days": 90,
        "is_active": True,
        "created_at": OPENED_AT,
        "activated_at": OPENED_AT,
    }
    values.update(overrides)
    return RiskPolicy.objects.create(**values)


def open_account(
    *,
    base_limit="10000.00",
    province="31",
    opened_at: datetime = OPENED_AT,
    email: str = "",
) -> CreditAccount:
    profile = CustomerProfileFactory(province_code=province, user__email=email)
    return account_open(customer=profile.user, base_limit=D(base_limit), due_day=10, now=opened_at)


def merchant() -> Merchant:
    return Merchant.objects.first() or MerchantFactory()


def buy(account: CreditAccount, amount, *, at: datetime, term: int = 3):
    fee_schedule()
    return purchase_authorize(
        account=account,
        merchant=merchant(),
        amount=D(str(amount)),
        term=term,
        idempotency_key=f"buy-{next(_keys)}",
        now=at,
    )


def repay(account: CreditAccount, amount, *, at: datetime):
    return repayment_apply(
        account=account, amount=D(str(amount)), idempotency_key=f"repay-{next(_keys)}", now=at
    )


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def assert_invariants() -> None:
    """Invariant 2 holds on every account, and the credit ledger check (when present) passes."""
    bad = [
        a.pk
        for a in CreditAccount.objects.exclude(status__in=["FROZEN", "CLOSED"])
        if (a.status == "NEGATIVE") != (a.available < 0)
    ]
    assert bad == [], f"status disagrees with available credit on accounts {bad}"
    try:
        from credit.ledger_check import ledger_check
    except ImportError:  # the ledger check is another capability's; run it once it lands
        return
    report = ledger_check()
    assert report.ok, report.format()
