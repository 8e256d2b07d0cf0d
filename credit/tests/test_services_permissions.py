"""Credit services check the person acting themselves: a staff member without the permission
is refused by the service (not only hidden by the admin), and nothing is written."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from conftest import shanghai
from core.permissions import NotPermitted
from credit.models import FreezeReason, LimitChangeKind
from credit.services import account_freeze, account_unfreeze, limit_set, temporary_limit_grant
from testkit import people
from testkit.credit import open_account, row_counts
from testkit.events import capture_events

pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def _freeze(account, actor):
    account_freeze(account=account, reason=FreezeReason.STAFF, actor=actor, note="checked", now=NOW)


def _unfreeze(account, actor):
    account_unfreeze(account=account, actor=actor, note="cleared", now=NOW)


def _set_limit(account, actor):
    limit_set(
        account=account,
        new_base_limit=Decimal("15000.00"),  # +50 %: within what one officer may do alone
        kind=LimitChangeKind.MANUAL_OVERRIDE,
        reason_codes=["STAFF_DECISION"],
        actor=actor,
        note="raise",
        now=NOW,
    )


def _grant(account, actor):
    temporary_limit_grant(
        account=account,
        amount=Decimal("500.00"),
        starts_at=NOW,
        ends_at=NOW + timedelta(days=7),
        reason="goodwill",
        actor=actor,
        now=NOW,
    )


def _account_for(act):
    account = open_account()
    if act is _unfreeze:
        _freeze(account, people.officer())
    return account


@pytest.mark.parametrize(
    ("act", "role"),
    [
        (_freeze, Role.SUPPORT_AGENT),
        (_unfreeze, Role.AUDITOR),
        (_set_limit, Role.SUPPORT_AGENT),
        (_grant, Role.RISK_OFFICER),  # temporary limits are a manager's call
    ],
)
def test_a_staff_member_without_the_permission_is_refused_by_the_service(act, role):
    account = _account_for(act)
    actor = people.staff(role)
    before = row_counts()
    with capture_events() as events, pytest.raises(NotPermitted) as refused:
        act(account, actor)
    assert refused.value.code == "permission_denied"
    assert row_counts() == before
    assert events == []


@pytest.mark.parametrize("act", [_freeze, _unfreeze, _set_limit, _grant])
def test_the_role_that_holds_the_permission_may_act(act):
    account = _account_for(act)
    with capture_events() as events:
        act(account, people.manager())
    assert len(events) == 1
