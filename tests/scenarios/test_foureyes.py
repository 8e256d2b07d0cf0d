"""Issue #12, Must 3: one risk officer alone raised a base limit from ¥30,000 to ¥999,999,999
(the active policy's maximum is ¥50,000)."""

from decimal import Decimal

import pytest

from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import ApprovalRequest, ApprovalStatus, LimitChange
from credit.risk.tests.factories import active_policy
from credit.services import limit_set
from credit.services.approvals import approval_approve
from credit.services.errors import LimitAbovePolicyMaximum, SecondApproverRequired
from testkit import reload
from testkit.credit import open_account
from testkit.people import manager, officer

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def set_limit(account, limit, actor):
    return limit_set(
        account=account,
        new_base_limit=D(limit),
        reason_codes=[ReasonCode.STAFF_DECISION],
        note="customer asked",
        actor=actor,
        now=NOW,
    )


def test_an_officers_times_100_raise_is_refused_or_queued_for_a_checker():
    """Pain: one officer alone raised ¥30,000 to ¥999,999,999 above the policy maximum."""
    active_policy(max_limit=D("50000.00"))
    account = open_account("30000.00")
    alone = officer()

    # Above the policy maximum: refused outright, nothing written.
    with pytest.raises(LimitAbovePolicyMaximum):
        set_limit(account, "999999999.00", alone)
    # Within the maximum but a big raise: queued, not applied; the officer cannot approve it.
    request = set_limit(account, "50000.00", alone)
    assert isinstance(request, ApprovalRequest) and request.status == ApprovalStatus.PENDING
    with pytest.raises(SecondApproverRequired):
        approval_approve(request=request, actor=alone, now=NOW)
    assert reload(account).base_limit == D("30000.00")
    assert not LimitChange.objects.filter(account=account, actor=alone).exists()

    # A second person applies it; the record names both.
    checker = officer()
    approval_approve(request=request, actor=checker, now=NOW)
    assert reload(account).base_limit == D("50000.00")
    change = LimitChange.objects.get(account=account, new_base_limit=D("50000.00"))
    assert change.actor == checker and str(alone) in change.note

    # Above the maximum only two risk managers together can go.
    request = set_limit(account, "60000.00", manager())
    approval_approve(request=request, actor=manager(), now=NOW)
    assert reload(account).base_limit == D("60000.00")
