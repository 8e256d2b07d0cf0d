"""Four eyes in the risk engine: policy activation and risk-rule changes wait for a second
risk manager (the machinery is credit/services/approvals.py). A rule change is versioned:
the approval writes a RiskRuleVersion with every editable field before and after, so fields
added to RiskRule later are versioned too."""

import json
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.permissions import permission_require
from credit.models import ApprovalKind, ApprovalRequest
from credit.risk.errors import RuleChangeInvalid, RuleUnchanged
from credit.risk.models import RiskPolicy, RiskRule, RiskRuleVersion
from credit.risk.policy import ACTIVATE_PERMISSION, policy_activate
from credit.services.approvals import (
    approval_execution_check,
    approval_kind_register,
    approval_request_open,
    approval_tag,
    row_reference,
)
from credit.services.errors import ApprovalStale
from credit.services.limits import limit_policy_maximum_register

CHANGE_RULE_PERMISSION = "risk.change_riskrule"
# Not settings of the rule: its identity and the stamp of the last change.
_NOT_VERSIONED = {"id", "code", "updated_at"}


def rule_editable_fields() -> list[str]:
    return [
        f.name
        for f in RiskRule._meta.concrete_fields
        if f.editable and f.name not in _NOT_VERSIONED
    ]


def rule_values(rule: RiskRule) -> dict:
    """The rule's editable fields, JSON-safe (Decimal and dates as strings)."""
    fields = (RiskRule._meta.get_field(name) for name in rule_editable_fields())
    values = {field.name: field.value_from_object(rule) for field in fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _assign(rule: RiskRule, values: dict) -> None:
    for name, value in values.items():
        field = RiskRule._meta.get_field(name)
        setattr(rule, field.attname, field.to_python(value))


@transaction.atomic
def rule_change_request(
    *, rule: RiskRule, changes: dict, actor: User, now: datetime, reason: str = ""
) -> ApprovalRequest:
    """Ask for new settings of a rule; they apply when a second risk manager approves."""
    permission_require(actor, CHANGE_RULE_PERMISSION)
    rule = RiskRule.objects.select_for_update().get(pk=rule.pk)
    before = rule_values(rule)
    fields = set(rule_editable_fields())
    asked = {k: v.pk if isinstance(v, Model) else v for k, v in changes.items() if k in fields}
    after = {**before, **json.loads(json.dumps(asked, cls=DjangoJSONEncoder))}
    if after == before:
        raise RuleUnchanged()
    _assign(rule, after)
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise RuleChangeInvalid("; ".join(exc.messages)) from exc
    changed = ", ".join(f"{k}: {before[k]} → {after[k]}" for k in after if after[k] != before[k])
    return approval_request_open(
        kind=ApprovalKind.RISK_RULE,
        target=rule,
        payload={"before": before, "after": after},
        summary=_("Rule %(rule)s: %(changes)s") % {"rule": rule.code, "changes": changed},
        maker=actor,
        now=now,
        reason=reason,
    )


def _rule_execute(*, request: ApprovalRequest, actor: User, now: datetime) -> str:
    """Apply an approved rule change (re-validated: the rule must still be as it was asked)."""
    rule = RiskRule.objects.select_for_update().get(pk=request.target_object_id)
    approval_execution_check(request, kind=ApprovalKind.RISK_RULE, target=rule, actor=actor)
    before, after = request.payload["before"], request.payload["after"]
    if rule_values(rule) != before:
        raise ApprovalStale()
    _assign(rule, after)
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise RuleChangeInvalid("; ".join(exc.messages)) from exc
    rule.updated_at = now
    rule.save()
    latest = rule.versions.aggregate(n=Max("version"))["n"] or 0
    version = RiskRuleVersion.objects.create(
        rule=rule,
        version=latest + 1,
        values=rule_values(rule),
        previous=before,
        requested_by=request.maker,
        approved_by=actor,
        approval=request,
        created_at=now,
    )
    return row_reference(version)


def _policy_execute(*, request: ApprovalRequest, actor: User, now: datetime) -> str:
    policy = policy_activate(
        policy=RiskPolicy.objects.get(pk=request.target_object_id),
        actor=actor,
        now=now,
        note=f"{request.reason} {approval_tag(request)}".strip(),
        approval=request,
    )
    return row_reference(policy)


def policy_maximum() -> Decimal | None:
    """The active policy's maximum base limit (staff limits above it need two risk managers)."""
    return RiskPolicy.objects.filter(is_active=True).values_list("max_limit", flat=True).first()


def register() -> None:
    """Called from RiskConfig.ready."""
    limit_policy_maximum_register(policy_maximum)
    approval_kind_register(
        ApprovalKind.RISK_POLICY,
        permission=ACTIVATE_PERMISSION,
        execute=_policy_execute,
        waits_for=gettext_lazy("a second risk manager"),
    )
    approval_kind_register(
        ApprovalKind.RISK_RULE,
        permission=CHANGE_RULE_PERMISSION,
        execute=_rule_execute,
        waits_for=gettext_lazy("a second risk manager"),
    )
