"""Risk-event rules on fixed data: shared IP, phone changes and device churn ask customers to
verify (no freeze); staff never count; reviewed evidence never raises a flag again."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from accounts.models import LoginEvent
from accounts.roles import Role
from accounts.tests.factories import UserFactory
from conftest import shanghai
from credit.models import AccountStatus, FreezeReason
from credit.risk.errors import FlagNotOpen, NoteRequired, PhoneInvalid, PhoneTaken, PhoneUnchanged
from credit.risk.models import (
    ChallengeStatus,
    FlagStatus,
    PhoneChange,
    RiskFlag,
    RiskRule,
    RuleAction,
    RuleCode,
    VerificationChallenge,
)
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
from testkit.people import officer, staff

pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 15, 0)
IP = "203.0.113.7"


def login(user, at, ip=IP, device=None, new_device=False):
    return LoginEvent.objects.create(
        user=user,
        ip_address=ip,
        user_agent_hash="ua",
        device_id=device or f"d{user.pk}",
        is_new_device=new_device,
        occurred_at=at,
    )


def shared_ip_rule(**values) -> RiskRule:
    """The shared-IP rule at 5 customers (the tests need fewer accounts than the default)."""
    rules_ensure()
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(**{"threshold": 5, **values})
    return RiskRule.objects.get(code=RuleCode.SHARED_IP)


@pytest.fixture
def five_accounts():
    shared_ip_rule()
    return [open_account(now=OPENED_AT) for _ in range(5)]


def open_challenges():
    return VerificationChallenge.objects.filter(status=ChallengeStatus.OPEN)


def test_the_default_rules_verify_and_suit_carrier_nat_and_office_networks():
    rules = {rule.code: rule for rule in rules_ensure()}
    shared = rules[RuleCode.SHARED_IP]
    assert (shared.threshold, shared.window_minutes, shared.action) == (20, 60, RuleAction.VERIFY)
    assert {rule.action for rule in rules.values()} == {RuleAction.VERIFY}
    assert set(rules) == {RuleCode.SHARED_IP, RuleCode.PHONE_CHANGES, RuleCode.DEVICE_CHURN}
    # Five customers of one office within an hour are nothing at the default threshold.
    for n in range(5):
        login(open_account(now=OPENED_AT).customer, NOW - timedelta(minutes=5 * n))
    assert rules_run(now=NOW) == []


def test_customers_sharing_an_ip_are_asked_to_verify_and_not_frozen(five_accounts):
    start = NOW - timedelta(minutes=50)
    for n, account in enumerate(five_accounts):
        login(account.customer, start + timedelta(minutes=10 * n))
    login(five_accounts[0].customer, start + timedelta(minutes=45))
    login(UserFactory(), NOW - timedelta(minutes=5), ip="198.51.100.1")  # elsewhere

    with capture_events() as events:
        (flag,) = rules_run(now=NOW)

    assert (flag.rule, flag.subject, flag.status) == (RuleCode.SHARED_IP, f"ip:{IP}", "OPEN")
    assert set(flag.accounts.all()) == set(five_accounts)
    assert not flag.froze_accounts and "5" in flag.explanation
    busiest = flag.evidence["busiest_window"]
    assert busiest["distinct_users"] == 5
    assert busiest["logins_per_user"][str(five_accounts[0].customer_id)] == 2
    for account in five_accounts:
        account = reload(account)
        assert (account.status, account.freeze_reasons) == (AccountStatus.ACTIVE, [])
        assert str(account.verification_purchase_max) == "500.00"
    assert {c.account_id for c in open_challenges()} == {a.pk for a in five_accounts}
    assert [e.event for e in events] == ["VERIFICATION_CODE"] * 5
    assert all(len(e.context["code"]) == 6 and e.context["hours"] == 24 for e in events)
    assert_invariants()


def test_staff_logins_never_count_towards_a_customer_rule(five_accounts):
    in_role_only = UserFactory()
    in_role_only.groups.add(Group.objects.get(name=Role.SUPPORT_AGENT.value))
    staff_users = [staff(), officer(), UserFactory(is_superuser=True), in_role_only]
    for n, user in enumerate(staff_users):
        login(user, NOW - timedelta(minutes=2 * n + 1))
    for n, account in enumerate(five_accounts[:4]):
        login(account.customer, NOW - timedelta(minutes=3 * n))
    assert rules_run(now=NOW) == []  # 4 customers + 4 staff: below 5

    login(five_accounts[4].customer, NOW + timedelta(minutes=1))
    (flag,) = rules_run(now=NOW + timedelta(minutes=2))
    assert flag.evidence["users"] == sorted(a.customer_id for a in five_accounts)
    assert set(flag.evidence["busiest_window"]["logins_per_user"]) == {
        str(a.customer_id) for a in five_accounts
    }


def test_a_cleared_flag_never_fires_again_on_the_logins_it_reviewed(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    flag_clear(flag=flag, actor=officer(), now=NOW + timedelta(minutes=1), note="office NAT")

    # The same logins plus one new one after the review: a window ending at the new login
    # still holds the old ones, but only the new one counts.
    sixth = open_account(now=OPENED_AT)
    login(sixth.customer, NOW + timedelta(minutes=2))
    login(five_accounts[0].customer, NOW + timedelta(minutes=3))
    assert rules_run(now=NOW + timedelta(minutes=3)) == []
    assert RiskFlag.objects.count() == 1
    assert not open_challenges().exists()

    # Five customers again, all after the review: that is new evidence.
    for account in five_accounts[1:4]:
        login(account.customer, NOW + timedelta(minutes=4))
    (again,) = rules_run(now=NOW + timedelta(minutes=5))
    assert again.pk != flag.pk
    assert len(again.evidence["users"]) == 5
    assert sixth.customer_id in again.evidence["users"]


def test_clearing_a_verify_flag_cancels_its_verifications(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    reviewer = officer()
    with pytest.raises(NoteRequired):
        flag_clear(flag=flag, actor=reviewer, now=NOW, note="")
    flag = flag_clear(flag=flag, actor=reviewer, now=NOW + timedelta(hours=1), note="office")
    assert (flag.status, flag.reviewed_by) == (FlagStatus.CLEARED, reviewer)
    challenges = flag.verification_challenges.all()
    assert {c.status for c in challenges} == {ChallengeStatus.CANCELLED}
    assert {c.closed_by for c in challenges} == {reviewer}
    for account in five_accounts:
        account = reload(account)
        assert (account.status, account.verification_purchase_max) == (AccountStatus.ACTIVE, None)
    with pytest.raises(FlagNotOpen):
        flag_confirm(flag=flag, actor=reviewer, now=NOW, note="x")
    assert_invariants()


def test_a_later_evaluation_extends_the_open_flag_and_asks_only_the_new_account(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    assert rules_run(now=NOW + timedelta(minutes=10)) == []  # nothing new
    sixth = open_account(now=OPENED_AT)
    login(sixth.customer, NOW + timedelta(minutes=15))
    with capture_events() as events:
        (extended,) = rules_run(now=NOW + timedelta(minutes=20))
    assert extended.pk == flag.pk and RiskFlag.objects.count() == 1
    assert flag.accounts.count() == 6
    assert [(e.event, e.user_id) for e in events] == [("VERIFICATION_CODE", sixth.customer_id)]
    assert reload(sixth).status == AccountStatus.ACTIVE
    assert open_challenges().count() == 6


def test_a_rule_set_to_freeze_freezes_and_clearing_lifts_it(five_accounts):
    shared_ip_rule(action=RuleAction.FREEZE)
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    with capture_events() as events:
        (flag,) = rules_run(now=NOW)
    assert flag.froze_accounts and not open_challenges().exists()
    assert [e.event for e in events] == ["ACCOUNT_FROZEN"] * 5
    for account in five_accounts:
        account = reload(account)
        assert (account.status, account.freeze_reasons) == (
            AccountStatus.FROZEN,
            [FreezeReason.SHARED_IP],
        )
    flag_clear(flag=flag, actor=officer(), now=NOW + timedelta(hours=1), note="office NAT")
    # A false alarm is our error: back to ACTIVE, no probation (credit.services.reversals).
    for account in five_accounts:
        account = reload(account)
        assert (account.status, account.probation_limit_cap) == (AccountStatus.ACTIVE, None)
    assert_invariants()


def test_a_confirmed_flag_keeps_the_accounts_frozen(five_accounts):
    shared_ip_rule(action=RuleAction.FREEZE)
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    flag_confirm(flag=flag, actor=staff(Role.RISK_OFFICER), now=NOW, note="fraud ring")
    assert reload(flag).status == FlagStatus.CONFIRMED
    assert all(reload(a).status == AccountStatus.FROZEN for a in five_accounts)


def test_a_review_only_rule_neither_freezes_nor_asks(five_accounts):
    shared_ip_rule(action=RuleAction.REVIEW_ONLY)
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    assert flag.accounts.count() == 5 and not open_challenges().exists()
    assert all(reload(a).status == AccountStatus.ACTIVE for a in five_accounts)


def test_a_rule_switched_off_raises_nothing(five_accounts):
    for n, account in enumerate(five_accounts):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    RiskRule.objects.filter(code=RuleCode.SHARED_IP).update(enabled=False)
    assert rules_run(now=NOW) == []


def test_the_threshold_is_configurable(five_accounts):
    shared_ip_rule(threshold=3)
    for n, account in enumerate(five_accounts[:3]):
        login(account.customer, NOW - timedelta(minutes=5 * n))
    (flag,) = rules_run(now=NOW)
    assert flag.accounts.count() == 3 and "3" in flag.explanation


def test_two_phone_changes_in_30_days_ask_the_customer_to_verify_without_freezing():
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
    assert open_challenges().get().account == account
    assert reload(user).phone == "+8613900139000"
    assert PhoneChange.objects.filter(user=user).count() == 2


def test_phone_changes_by_staff_or_of_staff_or_already_reviewed_do_not_count():
    user = open_account(now=OPENED_AT).customer
    agent = staff(Role.SUPPORT_AGENT)
    user_phone_change(user=user, new_phone="13800138000", now=NOW - timedelta(days=9), actor=agent)
    user_phone_change(user=user, new_phone="13900139000", now=NOW - timedelta(days=8), actor=user)
    user_phone_change(user=agent, new_phone="13700137001", now=NOW - timedelta(days=7), actor=agent)
    user_phone_change(user=agent, new_phone="13700137002", now=NOW - timedelta(days=6), actor=agent)
    assert rules_run(now=NOW) == []  # one customer change (plus one by staff); staff's own

    user_phone_change(user=user, new_phone="13600136000", now=NOW - timedelta(days=5), actor=user)
    (flag,) = rules_run(now=NOW - timedelta(days=4))
    flag_clear(flag=flag, actor=officer(), now=NOW - timedelta(days=3), note="new job, new SIM")
    user_phone_change(user=user, new_phone="13500135000", now=NOW - timedelta(days=2), actor=user)
    assert rules_run(now=NOW) == []  # one change since the review


def test_many_new_devices_in_a_week_ask_the_customer_to_verify_but_staff_do_not_count():
    rules_ensure()
    account = open_account(now=OPENED_AT)
    agent = staff(Role.SUPPORT_AGENT)
    for n in range(5):
        login(agent, NOW - timedelta(days=n), device=f"staff-device-{n}", new_device=True)
    for n in range(4):
        login(account.customer, NOW - timedelta(days=n), device=f"device-{n}", new_device=True)
    login(account.customer, NOW - timedelta(hours=1), device="device-0")  # seen before
    assert rules_run(now=NOW) == []

    login(account.customer, NOW - timedelta(minutes=5), device="device-4", new_device=True)
    (flag,) = rules_run(now=NOW)
    assert (flag.rule, flag.subject) == (RuleCode.DEVICE_CHURN, f"user:{account.customer_id}")
    assert flag.evidence["new_devices"] == 5
    assert open_challenges().get().account == account
    assert reload(account).status == AccountStatus.ACTIVE


def test_a_phone_change_is_refused_when_invalid_unchanged_or_taken():
    user, other = UserFactory(), UserFactory()
    with pytest.raises(PhoneInvalid):
        user_phone_change(user=user, new_phone="12345", now=NOW, actor=user)
    with pytest.raises(PhoneUnchanged):
        user_phone_change(user=user, new_phone=user.phone, now=NOW, actor=user)
    with pytest.raises(PhoneTaken):
        user_phone_change(user=user, new_phone=other.phone, now=NOW, actor=user)
    assert not PhoneChange.objects.exists()
