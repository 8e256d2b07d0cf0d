"""Risk services check the person acting themselves: a staff member without the permission is
refused by the service (the admin only hides the button), and nothing changes."""

from datetime import timedelta

import pytest

from accounts.models import LoginEvent
from accounts.roles import Role
from core.permissions import NotPermitted
from credit.risk.models import (
    ChallengeStatus,
    FlagStatus,
    PendingLimitDecrease,
    PendingStatus,
    RiskPolicy,
    RiskRule,
    RuleCode,
)
from credit.risk.pending import pending_decrease_cancel, pending_decrease_confirm
from credit.risk.policy import policy_duplicate
from credit.risk.rules import flag_clear, flag_confirm, rules_ensure, rules_run
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, bands
from testkit import reload
from testkit.credit import open_account
from testkit.people import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "5000")))
    account = open_account(now=OPENED_AT)
    run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    return PendingLimitDecrease.objects.get(account=account)


@pytest.mark.parametrize("decide", [pending_decrease_confirm, pending_decrease_cancel])
def test_an_announced_decrease_is_decided_only_by_staff_allowed_to(announced, decide):
    with pytest.raises(NotPermitted):
        decide(
            pending=announced,
            actor=staff(Role.SUPPORT_AGENT),
            now=announced.effective_at + timedelta(hours=1),
            note="customer asked",
        )
    assert reload(announced).status == PendingStatus.PENDING


@pytest.mark.parametrize("review", [flag_clear, flag_confirm])
def test_a_risk_flag_is_reviewed_only_by_staff_allowed_to(review):
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(threshold=5)
    accounts = [open_account(now=OPENED_AT) for _ in range(5)]
    for account in accounts:
        LoginEvent.objects.create(
            user=account.customer,
            ip_address="203.0.113.7",
            user_agent_hash="ua",
            device_id=f"d{account.pk}",
            occurred_at=RUN_AT,
        )
    (flag,) = rules_run(now=RUN_AT)
    with pytest.raises(NotPermitted):
        review(flag=flag, actor=staff(Role.SUPPORT_AGENT), now=RUN_AT, note="looks fine")
    assert reload(flag).status == FlagStatus.OPEN
    assert flag.verification_challenges.filter(status=ChallengeStatus.OPEN).count() == 5


def test_a_policy_draft_is_made_only_by_staff_allowed_to():
    policy = active_policy()
    versions = RiskPolicy.objects.count()
    with pytest.raises(NotPermitted):
        policy_duplicate(policy=policy, actor=staff(Role.RISK_OFFICER), now=RUN_AT)
    assert RiskPolicy.objects.count() == versions
    assert policy_duplicate(policy=policy, actor=staff(Role.RISK_MANAGER), now=RUN_AT).pk
