"""The staff console: demand and withdraw early repayment, extend installments, read closes.

The admin is only a door: each form calls the service with `actor=request.user`."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from conftest import shanghai
from credit.models import FreezeReason
from credit.services import account_freeze
from credit.servicing.models import Acceleration, AccelerationStatus, InstallmentExtension
from credit.servicing.services import acceleration_demand
from credit.servicing.tests.helpers import OPENED_AT, close, installments
from testkit.credit import buy, open_account
from testkit.people import staff

pytestmark = pytest.mark.django_db
ADD = reverse("admin:servicing_acceleration_add")
CHANGELIST = reverse("admin:servicing_acceleration_changelist")
EXTEND = reverse("admin:servicing_installmentextension_add")


@pytest.fixture
def frozen():
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    account_freeze(account=account, reason=FreezeReason.STAFF, now=shanghai(2026, 2, 1))
    return account


def test_a_risk_manager_demands_early_repayment_from_the_admin(client, frozen):
    manager = staff(Role.RISK_MANAGER)
    client.force_login(manager)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, {"account": frozen.pk, "reason": "多头借贷"})
    assert response.status_code == 302
    acceleration = Acceleration.objects.get()
    assert (acceleration.account, acceleration.demanded_by, acceleration.reason) == (
        frozen,
        manager,
        "多头借贷",
    )


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.SUPPORT_AGENT, Role.AUDITOR], ids=str)
def test_no_other_role_can_demand_from_the_admin(client, frozen, role):
    client.force_login(staff(role))
    assert client.get(CHANGELIST).status_code == 200
    assert client.get(ADD).status_code == 302
    client.post(ADD, {"account": frozen.pk, "reason": "多头借贷"})
    assert not Acceleration.objects.exists()


def test_a_refused_demand_is_shown_on_the_form_and_writes_nothing(client):
    active = open_account(now=OPENED_AT)
    client.force_login(staff(Role.RISK_MANAGER))
    response = client.post(ADD, {"account": active.pk, "reason": "多头借贷"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Acceleration.objects.exists()


def _demanded(frozen):
    return acceleration_demand(
        account=frozen,
        reason="多头借贷",
        actor=staff(Role.RISK_MANAGER),
        now=shanghai(2026, 2, 2, 10),
    )


def test_a_risk_manager_withdraws_with_a_note_through_the_admin_action(client, frozen):
    acceleration = _demanded(frozen)
    client.force_login(staff(Role.RISK_MANAGER))
    selected = {"action": "withdraw", "_selected_action": [acceleration.pk]}
    confirm = client.post(CHANGELIST, selected)
    assert confirm.status_code == 200
    assert "note" in confirm.context["form"].fields
    done = client.post(CHANGELIST, {**selected, "apply": "1", "note": "复核撤销"})
    assert done.status_code == 302
    acceleration.refresh_from_db()
    assert (acceleration.status, acceleration.withdrawn_note) == (
        AccelerationStatus.WITHDRAWN,
        "复核撤销",
    )
    assert [i.due_date_before_acceleration for i in installments(frozen)] == [None] * 3


def test_a_support_agent_cannot_withdraw_from_the_admin(client, frozen):
    acceleration = _demanded(frozen)
    client.force_login(staff(Role.SUPPORT_AGENT))
    client.post(
        CHANGELIST,
        {"action": "withdraw", "_selected_action": [acceleration.pk], "apply": "1", "note": "x"},
    )
    acceleration.refresh_from_db()
    assert acceleration.status == AccelerationStatus.ACTIVE


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.RISK_MANAGER], ids=str)
def test_risk_staff_extend_an_installment_from_the_admin(client, role):
    # The admin acts at the real time: a purchase made now, due in a month or so.
    account = open_account(now=timezone.now())
    buy(account, "300.00", term=3, now=timezone.now())
    first = installments(account)[0]
    due = first.due_date
    client.force_login(staff(role))
    response = client.post(EXTEND, {"installment": first.pk, "days": 15, "reason": "住院"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.due_date == due + timedelta(days=15)
    assert InstallmentExtension.objects.get().reason == "住院"


def test_an_extension_above_the_limit_is_refused_on_the_form(client):
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    client.force_login(staff(Role.RISK_OFFICER))
    response = client.post(
        EXTEND, {"installment": installments(account)[0].pk, "days": 31, "reason": "住院"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not InstallmentExtension.objects.exists()


def test_a_support_agent_cannot_extend_from_the_admin(client):
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    client.force_login(staff(Role.SUPPORT_AGENT))
    client.post(EXTEND, {"installment": installments(account)[0].pk, "days": 5, "reason": "x"})
    assert not InstallmentExtension.objects.exists()


def test_the_servicing_lists_load_in_a_bounded_number_of_queries(
    client, frozen, django_assert_max_num_queries
):
    for _ in range(3):
        other = open_account(now=OPENED_AT)
        buy(other, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
        account_freeze(account=other, reason=FreezeReason.STAFF, now=shanghai(2026, 2, 1))
        _demanded(other)
    close(date(2026, 2, 20))
    client.force_login(staff(Role.RISK_MANAGER))
    for name in ("acceleration", "businessday", "accountdelinquency", "delinquencychange"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"admin:servicing_{name}_changelist")).status_code == 200
