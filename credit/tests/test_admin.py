"""The credit back office: read-only pages for every staff role, operations only for the right one.

Each operation goes through a service with actor=request.user; a refused one writes nothing.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    ApprovalRequest,
    FeeSchedule,
    FeeScheduleTerm,
    GrantStatus,
    LimitChange,
    LimitChangeKind,
    TemporaryLimitGrant,
)
from credit.money import yuan
from credit.risk.models import PendingLimitDecrease
from credit.services import account_close, account_freeze, plan_payoff, purchase_refund
from testkit.approvals import approve_as_second
from testkit.credit import LAUNCH_RATES, buy, launch_fee_schedule, open_account, repay, row_counts
from testkit.people import staff

D = Decimal
pytestmark = pytest.mark.django_db
BOUGHT = shanghai(2026, 1, 6, 12, 0)


@pytest.fixture
def as_role(client):
    def login(role: Role):
        user = staff(role)
        client.force_login(user)
        return user

    return login


def operation_url(operation: str, *accounts) -> str:
    ids = "&".join(f"ids={a.pk}" for a in accounts)
    return f"{reverse('admin:credit_creditaccount_operation', args=[operation])}?{ids}"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def book():
    """A few accounts with purchases, repayments, a refund, a payoff and a limit cut."""
    accounts = [open_account() for _ in range(3)]
    for n, account in enumerate(accounts):
        first = buy(account, "1200.00", term=6, now=BOUGHT)
        buy(account, "300.00", term=3, now=BOUGHT + timedelta(days=n))
        repay(account, "150.00", now=shanghai(2026, 2, 10, 9, 0))
        purchase_refund(purchase=first, amount=D("100.00"), idempotency_key=f"r{n}", now=BOUGHT)
    plan_payoff(plan=accounts[0].plans.order_by("id").last(), idempotency_key="p", now=BOUGHT)
    return accounts


CHANGELISTS = [
    "creditaccount",
    "temporarylimitgrant",
    "limitchange",
    "feeschedule",
    "merchant",
    "purchase",
    "installmentplan",
    "repayment",
    "refund",
    "journalentry",
]


@pytest.mark.parametrize("model", CHANGELISTS)
@pytest.mark.parametrize("role", [Role.SUPPORT_AGENT, Role.RISK_OFFICER, Role.AUDITOR])
def test_every_staff_role_reads_each_changelist_in_a_bounded_number_of_queries(
    client, as_role, book, django_assert_max_num_queries, role, model
):
    as_role(role)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"admin:credit_{model}_changelist"))
    assert response.status_code == 200


def test_the_changelist_does_not_grow_in_queries_with_more_accounts(
    client, as_role, django_assert_max_num_queries
):
    as_role(Role.SUPPORT_AGENT)
    for _ in range(30):
        buy(open_account(), "100.00", now=BOUGHT)
    for model in ("creditaccount", "purchase", "installmentplan", "journalentry"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"admin:credit_{model}_changelist")).status_code == 200


def test_the_account_page_shows_limit_history_status_log_and_ledger_balances(
    client, settings, as_role, book, django_assert_max_num_queries
):
    officer = as_role(Role.RISK_OFFICER)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    account = book[1]
    account_freeze(account=account, reason="STAFF", actor=officer, note="fraud check", now=BOUGHT)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("admin:credit_creditaccount_change", args=[account.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Account opened" in page
    assert "fraud check" in page  # the StateLog's description
    assert "RECEIVABLE_PRINCIPAL" not in page  # labels, not codes
    account.refresh_from_db()
    assert yuan(account.outstanding_principal) in page
    # The status is shown, never an input.
    assert 'name="status"' not in page


def test_no_role_can_edit_an_account_by_hand(client, as_role):
    account = open_account()
    for role in Role:
        as_role(role)
        response = client.post(
            reverse("admin:credit_creditaccount_change", args=[account.pk]),
            {"status": "CLOSED", "base_limit": "999999"},
        )
        assert response.status_code == 403
    account.refresh_from_db()
    assert (account.status, account.base_limit) == (AccountStatus.ACTIVE, D("10000.00"))


# --- freeze / unfreeze -----------------------------------------------------------------


def test_a_risk_officer_freezes_with_a_reason_through_the_intermediate_page(client, as_role):
    officer = as_role(Role.RISK_OFFICER)
    account = open_account()
    changelist = reverse("admin:credit_creditaccount_changelist")
    response = client.post(
        changelist, {"action": "freeze_selected", "_selected_action": [account.pk]}
    )
    assert response.status_code == 302
    assert response.url == operation_url("freeze", account)

    form_page = client.get(response.url)
    assert form_page.status_code == 200
    assert 'name="note"' in form_page.content.decode()

    done = client.post(response.url, {"reason": "RISK_RULE", "note": "device farm"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN
    log = StateLog.objects.for_(account).get()
    assert (log.by, log.transition) == (officer, "freeze")
    assert log.description.endswith("device farm")


def test_a_freeze_without_a_note_is_refused_on_the_form_and_writes_nothing(client, as_role):
    as_role(Role.RISK_OFFICER)
    account = open_account()
    before = row_counts()
    response = client.post(operation_url("freeze", account), {"reason": "STAFF", "note": " "})
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["note"]
    assert row_counts() == before
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_a_freeze_the_lifecycle_does_not_allow_is_refused_with_a_message(client, as_role):
    as_role(Role.RISK_OFFICER)
    closed = open_account()
    account_close(account=closed, now=BOUGHT)
    before = row_counts()
    response = client.post(
        operation_url("freeze", closed), {"reason": "STAFF", "note": "x"}, follow=True
    )
    assert any("refused" in m or "拒绝" in m for m in messages_of(response))
    assert row_counts() == before
    closed.refresh_from_db()
    assert closed.status == AccountStatus.CLOSED


def test_unfreezing_an_account_that_is_not_frozen_is_refused_with_a_message(client, as_role):
    as_role(Role.RISK_OFFICER)
    account = open_account()
    before = row_counts()
    response = client.post(
        operation_url("unfreeze", account),
        {"reason_code": ReasonCode.STAFF_DECISION, "note": "x"},
        follow=True,
    )
    assert len(messages_of(response)) == 1
    assert row_counts() == before


def test_a_risk_officer_unfreezes_with_a_reason(client, as_role):
    officer = as_role(Role.RISK_OFFICER)
    account = open_account()
    account_freeze(account=account, reason="STAFF", actor=officer, note="check", now=BOUGHT)
    client.post(
        operation_url("unfreeze", account),
        {"reason_code": ReasonCode.IDENTITY_CHECK, "note": "ID verified at branch"},
    )
    account.refresh_from_db()
    assert account.status == AccountStatus.RESTORED
    assert account.status_reason_codes == [ReasonCode.IDENTITY_CHECK]
    assert StateLog.objects.for_(account).latest("id").by == officer


@pytest.mark.parametrize("role", [Role.SUPPORT_AGENT, Role.AUDITOR])
@pytest.mark.parametrize("operation", ["freeze", "unfreeze", "set-limit", "grant"])
def test_roles_without_the_permission_get_403_and_nothing_is_written(
    client, as_role, role, operation
):
    as_role(role)
    account = open_account()
    before = row_counts()
    url = operation_url(operation, account)
    assert client.get(url).status_code == 403
    data = {
        "reason": "STAFF",
        "note": "x",
        "new_base_limit": "1",
        "reason_code": "STAFF_DECISION",
    }
    assert client.post(url, data).status_code == 403
    assert row_counts() == before


def test_actions_a_role_may_not_take_are_not_offered_or_applied(client, as_role):
    as_role(Role.SUPPORT_AGENT)
    account = open_account()
    changelist = reverse("admin:credit_creditaccount_changelist")
    page = client.get(changelist).content.decode()
    assert "freeze_selected" not in page
    response = client.post(
        changelist, {"action": "freeze_selected", "_selected_action": [account.pk]}
    )
    assert response.status_code in (200, 302)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


# --- limits ----------------------------------------------------------------------------


def test_a_risk_officer_cuts_at_once_only_for_a_listed_reason(client, as_role):
    officer = as_role(Role.RISK_OFFICER)
    account = open_account()
    buy(account, "4000.00", now=BOUGHT)
    client.post(
        operation_url("set-limit", account),
        {
            "new_base_limit": "3000.00",
            "reason_code": ReasonCode.LATE_REPAYMENTS,
            "acts_at_once": ReasonCode.LEGAL_ORDER,
            "note": "review",
        },
    )
    account.refresh_from_db()
    assert (account.base_limit, account.status) == (D("3000.00"), AccountStatus.NEGATIVE)
    change = LimitChange.objects.filter(account=account).latest("id")
    assert (change.kind, change.actor, change.note, change.reason_codes) == (
        LimitChangeKind.MANUAL_OVERRIDE,
        officer,
        "review",
        [ReasonCode.LATE_REPAYMENTS, ReasonCode.LEGAL_ORDER],
    )


def test_a_large_staff_cut_in_the_admin_is_announced_and_waits(client, as_role):
    officer = as_role(Role.RISK_OFFICER)
    account = open_account()
    buy(account, "4000.00", now=BOUGHT)
    page = client.get(operation_url("set-limit", account)).content.decode()
    assert 'name="acts_at_once"' in page and "FRAUD_CONFIRMED" in page
    response = client.post(
        operation_url("set-limit", account),
        {"new_base_limit": "3000.00", "reason_code": ReasonCode.LATE_REPAYMENTS, "note": "review"},
        follow=True,
    )
    account.refresh_from_db()
    assert (account.base_limit, account.status) == (D("10000.00"), AccountStatus.ACTIVE)
    pending = PendingLimitDecrease.objects.get(account=account)
    assert (pending.kind, pending.announced_by, pending.new_base_limit) == (
        LimitChangeKind.ANNOUNCED_CUT,
        officer,
        D("3000.00"),
    )
    assert any("¥3,000.00" in m and str(account) in m for m in messages_of(response))


def test_a_limit_without_a_note_is_refused_and_writes_nothing(client, as_role):
    as_role(Role.RISK_OFFICER)
    account = open_account()
    before = row_counts()
    response = client.post(
        operation_url("set-limit", account),
        {"new_base_limit": "3000.00", "reason_code": ReasonCode.RESCORE, "note": ""},
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert row_counts() == before


def test_a_set_limit_on_several_accounts_applies_to_each(client, as_role):
    as_role(Role.RISK_OFFICER)
    accounts = [open_account(), open_account()]
    client.post(
        operation_url("set-limit", *accounts),
        {"new_base_limit": "8000.00", "reason_code": ReasonCode.REGIONAL_POLICY, "note": "pilot"},
    )
    for account in accounts:
        account.refresh_from_db()
        assert account.base_limit == D("8000.00")


def test_only_a_risk_manager_grants_temporary_limits(client, as_role):
    account = open_account()
    now = timezone.localtime()
    data = {
        "amount": "2000.00",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": (now - timedelta(minutes=5)).strftime("%H:%M:%S"),
        "ends_at_0": (now + timedelta(days=7)).strftime("%Y-%m-%d"),
        "ends_at_1": "23:59:00",
        "campaign": "",
        "reason": "loyal customer, wedding purchases",
    }
    as_role(Role.RISK_OFFICER)
    assert client.post(operation_url("grant", account), data).status_code == 403
    assert not TemporaryLimitGrant.objects.exists()

    manager = as_role(Role.RISK_MANAGER)
    response = client.post(operation_url("grant", account), data)
    assert response.status_code == 302, response.context["form"].errors
    grant = TemporaryLimitGrant.objects.get()
    assert (grant.granted_by, grant.status, grant.amount) == (
        manager,
        GrantStatus.ACTIVE,
        D("2000.00"),
    )
    account.refresh_from_db()
    assert account.effective_limit == D("12000.00")


# --- fee schedules ---------------------------------------------------------------------


def draft(rates: dict[int, str]) -> FeeSchedule:
    launch_fee_schedule()
    schedule = FeeSchedule.objects.create(version=9, name="draft", created_at=BOUGHT)
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=t, monthly_fee_rate=D(r))
        for t, r in rates.items()
    )
    return schedule


def activate(client, schedule):
    return client.post(
        reverse("admin:credit_feeschedule_changelist"),
        {"action": "activate", "_selected_action": [schedule.pk]},
        follow=True,
    )


def test_a_risk_manager_activates_a_schedule_within_the_cap_with_a_second_one(client, as_role):
    as_role(Role.RISK_MANAGER)
    schedule = draft({**LAUNCH_RATES, 24: "0.006000"})
    activate(client, schedule)
    schedule.refresh_from_db()
    assert not schedule.is_active  # sent for approval
    checker = staff(Role.RISK_MANAGER)
    approve_as_second(ApprovalRequest.objects.get(), now=timezone.now(), checker=checker)
    schedule.refresh_from_db()
    assert (schedule.is_active, schedule.activated_by) == (True, checker)


def test_a_schedule_above_the_cap_is_refused_with_a_message_naming_term_and_rate(client, as_role):
    as_role(Role.RISK_MANAGER)
    schedule = draft({**LAUNCH_RATES, 6: "0.020000"})
    response = activate(client, schedule)
    [message] = messages_of(response)
    assert "6" in message and "%" in message
    schedule.refresh_from_db()
    assert not schedule.is_active
    assert FeeSchedule.objects.get(is_active=True).version == 1


def test_a_risk_officer_cannot_activate_a_schedule(client, as_role):
    as_role(Role.RISK_OFFICER)
    schedule = draft(dict(LAUNCH_RATES))
    activate(client, schedule)
    schedule.refresh_from_db()
    assert not schedule.is_active


def test_a_risk_manager_drafts_a_schedule_but_an_active_one_is_frozen(client, as_role):
    as_role(Role.RISK_MANAGER)
    launch_fee_schedule()
    add = client.get(reverse("admin:credit_feeschedule_add"))
    assert add.status_code == 200
    assert add.context["adminform"].form.initial["version"] == 2
    active = FeeSchedule.objects.get(is_active=True)
    response = client.post(
        reverse("admin:credit_feeschedule_change", args=[active.pk]),
        {"name": "sneaky"},
    )
    assert response.status_code == 403
    active.refresh_from_db()
    assert active.name == "Launch pricing"
