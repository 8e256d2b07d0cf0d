"""The four-eyes queue in the back office: a large raise, grant or activation becomes a request
("sent for approval to a second …"); the queue lists it; the maker's own approval is refused
with a message, a second person's applies it."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from core.reasons import ReasonCode
from credit.models import ApprovalRequest, ApprovalStatus, FeeSchedule, FeeScheduleTerm
from credit.risk.models import RiskRule, RuleCode
from credit.risk.rules import rules_ensure
from testkit import reload
from testkit.credit import LAUNCH_RATES, launch_fee_schedule, open_account
from testkit.people import staff

D = Decimal
pytestmark = pytest.mark.django_db
QUEUE = "admin:credit_approvalrequest_changelist"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def login(client, role):
    user = staff(role)
    client.force_login(user)
    return user


def ask_raise(client, account, limit="999999.00"):
    url = reverse("admin:credit_creditaccount_operation", args=["set-limit"])
    return client.post(
        f"{url}?ids={account.pk}",
        {"new_base_limit": limit, "reason_code": ReasonCode.STAFF_DECISION, "note": "vip"},
        follow=True,
    )


def decide(client, request, action, **extra):
    return client.post(
        reverse(QUEUE),
        {"action": action, "_selected_action": [request.pk], **extra},
        follow=True,
    )


def test_a_large_raise_is_sent_for_approval_listed_and_applied_by_a_second_officer(
    client, settings, django_assert_max_num_queries
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    maker = login(client, Role.RISK_OFFICER)
    account = open_account("10000.00")
    response = ask_raise(client, account, "25000.00")
    assert any("sent for approval to a second officer" in m for m in messages_of(response))
    assert reload(account).base_limit == D("10000.00")
    request = ApprovalRequest.objects.get()

    with django_assert_max_num_queries(12):
        page = client.get(reverse(QUEUE)).content.decode()
    assert "¥25,000.00" in page and str(maker) in page

    response = decide(client, request, "approve")
    assert any("you cannot approve your own" in m for m in messages_of(response))
    assert reload(request).status == ApprovalStatus.PENDING

    login(client, Role.RISK_OFFICER)
    response = decide(client, request, "approve")
    assert any("approved and applied" in m for m in messages_of(response))
    assert reload(account).base_limit == D("25000.00")


def test_a_support_agent_sees_no_approve_action_and_cannot_approve(client):
    login(client, Role.RISK_OFFICER)
    ask_raise(client, open_account("10000.00"), "25000.00")
    request = ApprovalRequest.objects.get()
    login(client, Role.SUPPORT_AGENT)
    response = decide(client, request, "approve")
    assert reload(request).status == ApprovalStatus.PENDING
    assert response.status_code in (200, 403)


def test_a_second_officer_rejects_with_a_note(client):
    login(client, Role.RISK_OFFICER)
    ask_raise(client, open_account("10000.00"), "25000.00")
    request = ApprovalRequest.objects.get()
    checker = login(client, Role.RISK_OFFICER)
    decide(client, request, "reject", confirm="yes", note="no income proof")
    request = reload(request)
    assert (request.status, request.checker, request.note) == (
        ApprovalStatus.REJECTED,
        checker,
        "no income proof",
    )


def test_activating_a_fee_schedule_in_the_admin_sends_it_for_approval(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    launch_fee_schedule()
    schedule = FeeSchedule.objects.create(
        version=9, name="spring", created_at=launch_fee_schedule().created_at
    )
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=t, monthly_fee_rate=D(r))
        for t, r in LAUNCH_RATES.items()
    )
    login(client, Role.RISK_MANAGER)
    response = client.post(
        reverse("admin:credit_feeschedule_changelist"),
        {"action": "activate", "_selected_action": [schedule.pk]},
        follow=True,
    )
    assert any("sent for approval to a second risk manager" in m for m in messages_of(response))
    assert not reload(schedule).is_active
    login(client, Role.RISK_MANAGER)
    decide(client, ApprovalRequest.objects.get(), "approve")
    assert reload(schedule).is_active


def test_saving_a_risk_rule_in_the_admin_sends_the_change_for_approval(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rules_ensure()
    rule = RiskRule.objects.get(code=RuleCode.SHARED_IP)
    login(client, Role.RISK_MANAGER)
    response = client.post(
        reverse("admin:risk_riskrule_change", args=[rule.pk]),
        {
            "enabled": "on",
            "threshold": "50",
            "window_minutes": str(rule.window_minutes),
            "lookback_minutes": str(rule.lookback_minutes),
            "action": rule.action,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert any("sent for approval" in m for m in messages_of(response))
    assert reload(rule).threshold == 20
    login(client, Role.RISK_MANAGER)
    decide(client, ApprovalRequest.objects.get(), "approve")
    assert reload(rule).threshold == 50
