"""Risk-event rules on fixed data: shared IP (freeze and queue), phone changes (flag only)."""

from datetime import timedelta

import pytest

from accounts.models import LoginEvent
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from conftest import shanghai
from credit.models import AccountStatus, FreezeReason
from credit.risk.errors import FlagNotOpen, NoteRequired, PhoneInvalid, PhoneTaken, PhoneUnchanged
from credit.risk.models import FlagStatus, PhoneChange, RiskFlag, RiskRule, RuleCode
from credit.risk.rules import (
    flag_clear,
    flag_confirm,
    rules_ensure,
    rules_run,
    user_phone_change,
)
from credit.risk.tests.factories import OPENED_AT, assert_invariants
from testkit import reload
from testkit.credit import open_account
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 15, 0)
IP = "203.0.113.7"


def login(user, at, ip=IP):
    return LoginEvent.objects.create(
        user=user, ip_address=ip, user_agent_hash="ua", device_id=f"d{user.pk}", occurred_at=at
    )


@pytest.fixture
def five_accounts():
    return [open_account(now=OPENED_AT) for _ in range(5)]


def test_five_accounts_logging_in_from_one_ip_within_an_hour_are_frozen_and_queued(five_accounts):
    start = NOW - timedelta(minutes=50)
    for n, account in enumerate(five_accounts):
        login(account.customer, start + timedelta(minutes=10 * n))
    login(five_accounts[0].customer, start + timedelta(minutes=45))
    login(UserFactory(), NOW - timedelta(minutes=5), ip="198.51.100.1")  # elsewhere

    with capture_events() as events:
        (flag,) = rules_run(now=NOW)

    assert (flag.rule, flag.subject, flag.status) == (RuleCode.SHARED_IP, f"ip:{IP}", "OPEN")
    assert set(flag.accounts.all()) == set(five_accounts)
    assert flag.froze_accounts and "5" in flag.explanation
    busiest = flag.evidence["busiest_window"]
    assert busiest["distinct_users"] == 5
    assert busiest["logins_per_user"][str(five_accounts[0].customer_id)] == 2
    assert flag.evidence["users"] == sorted(a.customer_id for a in five_accounts)
    for account in five_accounts:
        account = reload(account)
        assert account.status == AccountStatus.FROZEN
        assert account.freeze_reasons == [FreezeReason.SHARED_IP]
        assert account.status_reason_codes == ["SHARED_IP"]
    assert [e.event for e in events] == ["ACCOUNT_FROZEN"] * 5
    assert_invariants()


def test_four_accounts_or_five_spread_over_more_than_an_hour_raise_nothing(five_accounts):
    for n, account in enumerate(five_accounts[:4]):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    login(five_accounts[4].customer, NOW - timedelta(minutes=61))
    assert rules_run(now=NOW) == []
    assert all(reload(a).status == AccountStatus.ACTIVE for a in five_accounts)


def test_a_later_evaluation_extends_the_open_flag_instead_of_raising_another(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    assert rules_run(now=NOW + timedelta(minutes=10)) == []  # nothing new
    sixth = open_account(now=OPENED_AT)
    login(sixth.customer, NOW + timedelta(minutes=15))
    (extended,) = rules_run(now=NOW + timedelta(minutes=20))
    assert extended.pk == flag.pk and RiskFlag.objects.count() == 1
    assert reload(sixth).status == AccountStatus.FROZEN
    assert flag.accounts.count() == 6


def test_clearing_a_shared_ip_flag_lifts_its_freeze_and_confirming_keeps_it(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    officer = staff(Role.RISK_OFFICER)
    with pytest.raises(NoteRequired):
        flag_clear(flag=flag, actor=officer, now=NOW, note="")
    flag = flag_clear(flag=flag, actor=officer, now=NOW + timedelta(hours=1), note="office NAT")
    assert (flag.status, flag.reviewed_by) == (FlagStatus.CLEARED, officer)
    # A false alarm is our error: back to ACTIVE, no probation (credit.services.reversals).
    assert all(reload(a).status == AccountStatus.ACTIVE for a in five_accounts)
    with pytest.raises(FlagNotOpen):
        flag_confirm(flag=flag, actor=officer, now=NOW, note="x")
    # Reviewed evidence does not come back; new logins after the review do.
    assert rules_run(now=NOW + timedelta(hours=1, minutes=10)) == []
    assert_invariants()


def test_a_confirmed_flag_keeps_the_accounts_frozen(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    flag_confirm(flag=flag, actor=staff(Role.RISK_OFFICER), now=NOW, note="fraud ring")
    assert reload(flag).status == FlagStatus.CONFIRMED
    assert all(reload(a).status == AccountStatus.FROZEN for a in five_accounts)


def test_a_rule_switched_off_raises_nothing(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(enabled=False)
    assert rules_run(now=NOW) == []


def test_the_threshold_is_configurable(five_accounts):
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(threshold=3)
    for n, account in enumerate(five_accounts[:3]):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    assert flag.accounts.count() == 3 and "3" in flag.explanation


def test_two_phone_changes_in_30_days_flag_the_account_without_freezing_it():
    account = open_account(now=OPENED_AT)
    user = account.customer
    user_phone_change(
        user=user, new_phone="138 0013 8000", now=NOW - timedelta(days=20), actor=user
    )
    assert rules_run(now=NOW) == []
    user_phone_change(
        user=user, new_phone="+8613900139000", now=NOW - timedelta(days=1), actor=user
    )
    (flag,) = rules_run(now=NOW)
    assert (flag.rule, flag.subject, flag.froze_accounts) == (
        RuleCode.PHONE_CHANGES,
        f"user:{user.pk}",
        False,
    )
    assert [c["to"] for c in flag.evidence["changes"]] == ["138****8000", "139****9000"]
    assert list(flag.accounts.all()) == [account]
    assert reload(account).status == AccountStatus.ACTIVE
    assert reload(user).phone == "+8613900139000"
    assert PhoneChange.objects.filter(user=user).count() == 2


def test_phone_changes_further_apart_than_30_days_raise_nothing():
    user = open_account(now=OPENED_AT).customer
    user_phone_change(user=user, new_phone="13800138000", now=NOW - timedelta(days=40), actor=user)
    user_phone_change(user=user, new_phone="13900139000", now=NOW - timedelta(days=5), actor=user)
    assert rules_run(now=NOW) == []


def test_a_phone_change_is_refused_when_invalid_unchanged_or_taken():
    user, other = UserFactory(), UserFactory()
    with pytest.raises(PhoneInvalid):
        user_phone_change(user=user, new_phone="12345", now=NOW, actor=user)
    with pytest.raises(PhoneUnchanged):
        user_phone_change(user=user, new_phone=user.phone, now=NOW, actor=user)
    with pytest.raises(PhoneTaken):
        user_phone_change(user=user, new_phone=other.phone, now=NOW, actor=user)
    assert not PhoneChange.objects.exists()
