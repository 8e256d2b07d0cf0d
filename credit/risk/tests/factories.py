"""Arrange helpers for the risk tests: policies, the run's clock, and the invariants checked
after a run. Accounts and their histories come from testkit.credit (through the services),
opened at OPENED_AT so they are 14 months old at RUN_AT."""

from decimal import Decimal

from conftest import shanghai
from credit.models import CreditAccount
from credit.risk.models import RiskPolicy
from testkit.credit import assert_ledger_holds

D = Decimal
OPENED_AT = shanghai(2025, 1, 6, 9, 0)
# The nightly run of these tests: 2026-03-10 02:00 Shanghai.
RUN_AT = shanghai(2026, 3, 10, 2, 0)


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


def assert_invariants() -> None:
    """Invariant 2 holds on every account, and the credit ledger check passes."""
    bad = [
        a.pk
        for a in CreditAccount.objects.exclude(status__in=["FROZEN", "CLOSED"])
        if (a.status == "NEGATIVE") != (a.available < 0)
    ]
    assert bad == [], f"status disagrees with available credit on accounts {bad}"
    assert_ledger_holds()
