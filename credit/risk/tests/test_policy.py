"""Policy versions: activation by a risk manager only (audited), one active, the proposal."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from core.permissions import NotPermitted
from credit.risk.errors import PolicyAlreadyActivated
from credit.risk.models import RegionalMultiplier, RiskPolicy, RiskPolicyActivation
from credit.risk.policy import (
    band_limit_sql,
    guard_draft,
    multiplier_for,
    policy_activate,
    policy_duplicate,
    proposed_limit,
    proposed_limit_sql,
)
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, bands
from testkit.approvals import approve_as_second
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal


def draft(**overrides) -> RiskPolicy:
    return active_policy(is_active=False, activated_at=None, **overrides)


def test_a_risk_manager_activates_a_version_and_the_activation_is_audited():
    manager = staff(Role.RISK_MANAGER)
    old = active_policy()
    new = draft()
    asked = policy_activate(
        policy=new, actor=staff(Role.RISK_MANAGER), now=RUN_AT, note="spring review"
    )
    approve_as_second(asked, now=RUN_AT, checker=manager)
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.is_active, old.is_active) == (True, False)
    assert (new.activated_by, new.activated_at) == (manager, RUN_AT)
    audit = RiskPolicyActivation.objects.get()
    assert (audit.policy, audit.previous, audit.activated_by, audit.activated_at) == (
        new,
        old,
        manager,
        RUN_AT,
    )


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.SUPPORT_AGENT, None])
def test_nobody_but_a_risk_manager_can_activate_a_policy(role):
    policy = draft()
    with pytest.raises(NotPermitted):
        policy_activate(policy=policy, actor=staff(role), now=RUN_AT)
    assert not RiskPolicy.objects.get(pk=policy.pk).is_active
    assert not RiskPolicyActivation.objects.exists()


def test_the_database_refuses_two_active_policies():
    active_policy()
    other = draft()
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskPolicy.objects.filter(pk=other.pk).update(is_active=True)


def test_an_activated_version_is_frozen_and_duplicates_into_a_draft_with_its_regions():
    policy = active_policy()
    RegionalMultiplier.objects.create(
        policy=policy, province_code="44", multiplier="0.8", effective_from=date(2026, 1, 1)
    )
    with pytest.raises(PolicyAlreadyActivated):
        guard_draft(policy)
    copy = policy_duplicate(policy=policy, actor=None, now=RUN_AT)
    assert copy.version == policy.version + 1 and not copy.is_active
    assert copy.activated_at is None
    assert copy.regional_multipliers.get().multiplier == D("0.8000")
    guard_draft(copy)


def test_an_invalid_band_table_cannot_be_activated():
    manager = staff(Role.RISK_MANAGER)
    policy = draft(score_bands=bands((400, "1000")))
    with pytest.raises(Exception, match="300"):
        policy_activate(policy=policy, actor=manager, now=RUN_AT)


def test_regional_multipliers_apply_between_their_dates_and_the_strictest_wins():
    policy = active_policy()
    RegionalMultiplier.objects.create(
        policy=policy,
        province_code="44",
        multiplier="0.8",
        effective_from=date(2026, 3, 1),
        effective_to=date(2026, 3, 31),
    )
    RegionalMultiplier.objects.create(
        policy=policy, province_code="44", multiplier="0.5", effective_from=date(2026, 3, 20)
    )
    assert multiplier_for(policy, "44", date(2026, 2, 28)) == D("1")
    assert multiplier_for(policy, "44", date(2026, 3, 1)) == D("0.8")
    assert multiplier_for(policy, "44", date(2026, 3, 20)) == D("0.5")
    assert multiplier_for(policy, "44", date(2026, 4, 1)) == D("0.5")
    assert multiplier_for(policy, "31", date(2026, 3, 20)) == D("1")


def test_per_run_caps_limit_raises_and_cuts_the_smaller_move_winning():
    policy = active_policy(
        score_bands=bands((300, "1000"), (700, "50000")),
        max_raise_amount=D("3000"),
        max_raise_percent=D("50"),
        max_cut_percent=D("20"),
    )
    assert proposed_limit(policy, score=800, base=D("10000")) == D("13000.00")
    assert proposed_limit(policy, score=800, base=D("4000")) == D("6000.00")
    assert proposed_limit(policy, score=400, base=D("10000")) == D("8000.00")
    assert proposed_limit(policy, score=400, base=D("1100")) == D("1000.00")


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    score=st.integers(300, 900),
    base=st.decimals(min_value=0, max_value=60000, places=2),
    multiplier=st.decimals(min_value=0, max_value=2, places=4),
    raise_amount=st.none() | st.decimals(min_value=0, max_value=20000, places=2),
    raise_percent=st.none() | st.decimals(min_value=0, max_value=200, places=2),
    cut_amount=st.none() | st.decimals(min_value=0, max_value=20000, places=2),
    cut_percent=st.none() | st.decimals(min_value=0, max_value=100, places=2),
)
def test_the_sql_proposal_equals_the_python_proposal(
    score, base, multiplier, raise_amount, raise_percent, cut_amount, cut_percent
):
    policy = RiskPolicy(
        version=1,
        name="p",
        score_bands=bands((300, "800"), (500, "4350.50"), (650, "12000"), (800, "31000")),
        min_limit=D("500"),
        max_limit=D("30000"),
        limit_step=D("100"),
        max_raise_amount=raise_amount,
        max_raise_percent=raise_percent,
        max_cut_amount=cut_amount,
        max_cut_percent=cut_percent,
        created_at=OPENED_AT,
    )
    band = band_limit_sql(policy, "%(score)s::int")
    sql = proposed_limit_sql(
        policy, band=band, multiplier="%(m)s::numeric", base="%(base)s::numeric"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", {"score": score, "m": multiplier, "base": base})
        (value,) = cursor.fetchone()
    assert value == proposed_limit(policy, score=score, base=base, multiplier=multiplier)
