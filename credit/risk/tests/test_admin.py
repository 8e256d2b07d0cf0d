"""The staff console: held runs shown with their summary, actions only for the right roles."""

from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.roles import Role
from credit.models import ApprovalRequest
from credit.risk.models import (
    FlagStatus,
    PendingLimitDecrease,
    PendingStatus,
    RiskFlag,
    RiskPolicy,
    RunStatus,
)
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, bands
from testkit import reload
from testkit.credit import open_account
from testkit.people import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_run(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 5
    active_policy(score_bands=bands((300, "9000")))
    for _ in range(3):
        open_account(now=OPENED_AT)
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT)
    run = run_execute(run=run, now=RUN_AT)
    assert run.status == RunStatus.AWAITING_APPROVAL
    return run


def as_user(client, role):
    user = staff(role)
    client.force_login(user)
    return user


def post_action(client, model, action, objects, **extra):
    url = reverse(f"admin:risk_{model}_changelist")
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(url, data)


def test_the_held_run_page_shows_counts_histogram_top_reasons_and_the_breaker(client, held_run):
    as_user(client, Role.RISK_OFFICER)
    response = client.get(reverse("admin:risk_rescoringrun_change", args=[held_run.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "cuts 100.0% of scored accounts" in page
    assert "800–849" in page  # the histogram's bins
    assert "CUT" in page and "FEW_REPAYMENTS" in page


def test_the_run_list_is_query_bounded(client, held_run, django_assert_max_num_queries):
    as_user(client, Role.RISK_MANAGER)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:risk_rescoringrun_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.SUPPORT_AGENT])
def test_others_cannot_approve_or_discard_a_held_run(client, held_run, role):
    as_user(client, role)
    for action in ("approve", "discard", "rollback"):
        post_action(client, "rescoringrun", action, [held_run])
    held_run = reload(held_run)
    assert held_run.status == RunStatus.AWAITING_APPROVAL and held_run.approved_at is None


def test_a_risk_manager_approves_a_held_run_and_it_is_applied_in_the_background(
    client, held_run, django_capture_on_commit_callbacks
):
    manager = as_user(client, Role.RISK_MANAGER)
    with (
        mock.patch("credit.risk.tasks.run_execute.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        post_action(client, "rescoringrun", "approve", [held_run])
    delay.assert_called_once_with(run_id=held_run.pk)
    held_run = reload(held_run)
    assert held_run.approved_by == manager
    assert run_execute(run=held_run, now=RUN_AT).status == RunStatus.APPLIED


def test_a_risk_manager_discards_a_held_run(client, held_run):
    as_user(client, Role.RISK_MANAGER)
    post_action(client, "rescoringrun", "discard", [held_run])
    assert reload(held_run).status == RunStatus.DISCARDED


def test_staff_cancel_an_announced_decrease_with_a_note(client, settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "5000")))
    open_account(now=OPENED_AT)
    run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    pending = PendingLimitDecrease.objects.get()
    officer = as_user(client, Role.RISK_OFFICER)
    asked = post_action(client, "pendinglimitdecrease", "cancel", [pending])
    assert asked.status_code == 200 and "note" in asked.content.decode()
    assert reload(pending).status == PendingStatus.PENDING
    post_action(
        client, "pendinglimitdecrease", "cancel", [pending], confirm="yes", note="customer appealed"
    )
    pending = reload(pending)
    assert (pending.status, pending.decided_by, pending.decision_note) == (
        PendingStatus.CANCELLED,
        officer,
        "customer appealed",
    )


def test_support_cannot_decide_announced_decreases(client, settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "5000")))
    open_account(now=OPENED_AT)
    run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    pending = PendingLimitDecrease.objects.get()
    as_user(client, Role.SUPPORT_AGENT)
    post_action(client, "pendinglimitdecrease", "confirm", [pending], confirm="yes", note="x")
    assert reload(pending).status == PendingStatus.PENDING


def test_staff_clear_a_flag_in_the_admin(client):
    flag = RiskFlag.objects.create(
        rule="PHONE_CHANGES",
        subject="user:1",
        explanation="x",
        evidence={"changes": []},
        created_at=RUN_AT,
        updated_at=RUN_AT,
    )
    officer = as_user(client, Role.RISK_OFFICER)
    response = client.get(reverse("admin:risk_riskflag_change", args=[flag.pk]))
    assert response.status_code == 200
    post_action(client, "riskflag", "clear", [flag], confirm="yes", note="the customer's new SIM")
    flag = reload(flag)
    assert (flag.status, flag.reviewed_by) == (FlagStatus.CLEARED, officer)


def test_only_a_risk_manager_activates_a_policy_in_the_admin(client):
    draft = active_policy(is_active=False, activated_at=None)
    as_user(client, Role.RISK_OFFICER)
    post_action(client, "riskpolicy", "activate", [draft])
    assert not reload(draft).is_active
    as_user(client, Role.RISK_MANAGER)
    post_action(client, "riskpolicy", "activate", [draft])
    assert not reload(draft).is_active  # sent for approval to a second risk manager
    checker = as_user(client, Role.RISK_MANAGER)
    client.post(
        reverse("admin:credit_approvalrequest_changelist"),
        {"action": "approve", ACTION_CHECKBOX_NAME: [ApprovalRequest.objects.get().pk]},
    )
    draft = reload(draft)
    assert draft.is_active and draft.activated_by == checker
    assert RiskPolicy.objects.filter(is_active=True).count() == 1


def test_an_activated_policy_is_read_only_in_the_admin(client):
    policy = active_policy()
    as_user(client, Role.RISK_MANAGER)
    response = client.get(reverse("admin:risk_riskpolicy_change", args=[policy.pk]))
    assert response.status_code == 200
    assert 'name="score_bands"' not in response.content.decode()
    response = client.post(
        reverse("admin:risk_riskpolicy_change", args=[policy.pk]), {"name": "changed"}
    )
    assert reload(policy).name != "changed"


def test_the_decision_list_is_query_bounded(client, held_run, django_assert_max_num_queries):
    as_user(client, Role.RISK_OFFICER)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:risk_rescoringdecision_changelist"))
    assert response.status_code == 200
    assert reload(held_run).decisions.count() == 3
