"""Four eyes in the risk engine: policy activation and risk-rule changes wait for a second risk
manager; a rule change applies on approval as a new version (before and after, maker and checker)."""

import pytest
from django.db import IntegrityError, transaction

from accounts.roles import Role
from core.permissions import NotPermitted
from credit.models import ApprovalKind, ApprovalStatus
from credit.risk.approvals import rule_change_request, rule_editable_fields
from credit.risk.errors import RuleChangeInvalid, RuleUnchanged
from credit.risk.models import (
    RiskPolicy,
    RiskPolicyActivation,
    RiskRule,
    RiskRuleVersion,
    RuleAction,
    RuleCode,
)
from credit.risk.policy import policy_activate
from credit.risk.rules import rules_ensure
from credit.risk.tests.factories import RUN_AT, active_policy
from credit.services.approvals import approval_approve
from credit.services.errors import ApprovalStale, SecondApproverRequired
from testkit import reload
from testkit.approvals import approve_as_second
from testkit.people import manager, staff

pytestmark = pytest.mark.django_db


def shared_ip_rule() -> RiskRule:
    rules_ensure()
    return RiskRule.objects.get(code=RuleCode.SHARED_IP)


def test_a_policy_activation_waits_for_a_second_risk_manager_and_records_both():
    old = active_policy()
    new = active_policy(is_active=False, activated_at=None)
    maker, checker = manager(), manager()
    request = policy_activate(policy=new, actor=maker, now=RUN_AT, note="spring review")
    assert (request.kind, request.status) == (ApprovalKind.RISK_POLICY, ApprovalStatus.PENDING)
    assert (reload(new).is_active, reload(old).is_active) == (False, True)
    with pytest.raises(SecondApproverRequired):
        approval_approve(request=request, actor=maker, now=RUN_AT)
    approve_as_second(request, now=RUN_AT, checker=checker)
    assert (reload(new).is_active, reload(old).is_active) == (True, False)
    audit = RiskPolicyActivation.objects.get()
    assert audit.activated_by == checker and f"approval #{request.pk}" in audit.note
    assert RiskPolicy.objects.filter(is_active=True).get() == new


def test_an_officer_cannot_approve_a_policy_activation():
    request = policy_activate(
        policy=active_policy(is_active=False, activated_at=None), actor=manager(), now=RUN_AT
    )
    with pytest.raises(NotPermitted):
        approval_approve(request=request, actor=staff(Role.RISK_OFFICER), now=RUN_AT)
    assert reload(request).status == ApprovalStatus.PENDING


def test_a_rule_change_applies_only_on_approval_as_a_version():
    rule = shared_ip_rule()
    maker, checker = manager(), manager()
    request = rule_change_request(
        rule=rule,
        changes={"threshold": 50, "action": RuleAction.REVIEW_ONLY},
        actor=maker,
        now=RUN_AT,
    )
    assert request.kind == ApprovalKind.RISK_RULE
    assert (reload(rule).threshold, reload(rule).action) == (20, RuleAction.VERIFY)
    version = approve_as_second(request, now=RUN_AT, checker=checker)
    rule = reload(rule)
    assert (rule.threshold, rule.action, rule.updated_at) == (50, RuleAction.REVIEW_ONLY, RUN_AT)
    assert isinstance(version, RiskRuleVersion)
    assert (version.version, version.requested_by, version.approved_by) == (1, maker, checker)
    assert (version.previous["threshold"], version.values["threshold"]) == (20, 50)
    # Every editable field is versioned, whatever fields the rule has.
    assert set(version.values) == set(rule_editable_fields()) == set(version.previous)


def test_a_rule_change_is_re_validated_at_approval():
    rule = shared_ip_rule()
    first = rule_change_request(rule=rule, changes={"threshold": 8}, actor=manager(), now=RUN_AT)
    RiskRule.objects.filter(pk=rule.pk).update(threshold=6)  # changed meanwhile
    with pytest.raises(ApprovalStale):
        approval_approve(request=first, actor=manager(), now=RUN_AT)
    assert reload(rule).threshold == 6 and not RiskRuleVersion.objects.exists()


def test_an_invalid_or_empty_rule_change_is_refused_at_once():
    rule = shared_ip_rule()
    with pytest.raises(RuleChangeInvalid):
        rule_change_request(rule=rule, changes={"threshold": 0}, actor=manager(), now=RUN_AT)
    with pytest.raises(RuleUnchanged):
        rule_change_request(rule=rule, changes={"threshold": 20}, actor=manager(), now=RUN_AT)


def test_only_risk_managers_ask_for_rule_changes():
    with pytest.raises(NotPermitted):
        rule_change_request(
            rule=shared_ip_rule(),
            changes={"threshold": 9},
            actor=staff(Role.RISK_OFFICER),
            now=RUN_AT,
        )


def test_the_database_refuses_a_rule_version_approved_by_its_maker():
    rule = shared_ip_rule()
    maker = manager()
    request = rule_change_request(rule=rule, changes={"threshold": 9}, actor=maker, now=RUN_AT)
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskRuleVersion.objects.create(
            rule=rule,
            version=1,
            values={},
            previous={},
            requested_by=maker,
            approved_by=maker,
            approval=request,
            created_at=RUN_AT,
        )
