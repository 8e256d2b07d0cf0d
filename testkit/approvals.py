"""Four eyes in tests: a second person approves what a service sent for approval."""

from django.apps import apps

from credit.models import ApprovalRequest
from credit.services.approvals import approval_approve
from testkit.people import manager


def approve_as_second(result, *, now, checker=None):
    """When `result` is a request waiting for approval, approve it as `checker` (by default a new
    risk manager, who holds every permission a request can need) and return the row the action
    wrote (LimitChange, TemporaryLimitGrant, FeeSchedule, RiskPolicy, RiskRuleVersion);
    anything else is returned as it is."""
    if not isinstance(result, ApprovalRequest):
        return result
    approved = approval_approve(request=result, actor=checker or manager(), now=now)
    label, pk = approved.outcome.split(":")
    return apps.get_model(label).objects.get(pk=int(pk))
