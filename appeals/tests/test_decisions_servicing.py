"""Approved appeals acting through servicing: 延期 (REPAYMENT_EXTENSION), 提前结清 (ACCELERATION)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from appeals import services
from appeals.errors import AppealTargetNotEligible
from appeals.models import AppealStatus
from appeals.tests.factories import NOW, freeze, submit
from core.events import EventType
from core.reasons import ReasonCode
from credit.models import Installment
from credit.servicing.models import Acceleration, AccelerationStatus, InstallmentExtension
from credit.servicing.services import acceleration_demand, installment_extend
from testkit import reload
from testkit.credit import buy, launch_fee_schedule, open_account, row_counts
from testkit.people import manager, officer

pytestmark = pytest.mark.django_db
D = Decimal
DECIDE_AT = NOW + timedelta(hours=2)


def approve(appeal, actor=None, **kwargs):
    return services.appeal_decide(
        appeal=appeal,
        actor=actor or officer(),
        outcome=AppealStatus.APPROVED,
        note=kwargs.pop("note", "Customer explained; approved."),
        now=kwargs.pop("now", DECIDE_AT),
        **kwargs,
    )


# --- ACCELERATION -------------------------------------------------------------------------


def _accelerated():
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "3000.00", term=3, now=NOW - timedelta(days=20))
    freeze(account, now=NOW - timedelta(days=2))
    acceleration = acceleration_demand(
        account=account,
        reason="多头借贷，还款能力存疑",
        actor=manager(),
        now=NOW - timedelta(days=1),
    )
    return account, acceleration


def test_an_approved_acceleration_appeal_withdraws_the_demand_and_restores_the_schedule(events):
    account, acceleration = _accelerated()
    schedule_before = sorted(
        Installment.objects.filter(account=account).values_list(
            "sequence", "due_date_before_acceleration"
        )
    )
    assert any(original is not None for _seq, original in schedule_before)
    appeal = submit(account, "acceleration", acceleration)

    approve(appeal, officer())

    acceleration = Acceleration.objects.get(pk=acceleration.pk)
    assert acceleration.status == AccelerationStatus.WITHDRAWN
    assert acceleration.withdrawn_at == DECIDE_AT
    assert f"appeal #{appeal.pk}" in acceleration.withdrawn_note
    restored = dict(Installment.objects.filter(account=account).values_list("sequence", "due_date"))
    for sequence, original in schedule_before:
        if original is not None:
            assert restored[sequence] == original
    # Reversed as our error: one notice saying what went wrong and what was put right.
    assert not [e for e in events if e.event == EventType.ACCELERATION_WITHDRAWN]
    (reversed_notice,) = [e for e in events if e.event == EventType.DECISION_REVERSED]
    assert reversed_notice.context["decision"] == "ACCELERATION"
    assert reversed_notice.context["reason_codes"] == [
        ReasonCode.APPEAL_APPROVED,
        ReasonCode.OUR_ERROR,
    ]


def test_the_acceleration_link_of_the_servicing_notice_opens_the_form(client):
    account, acceleration = _accelerated()
    client.force_login(account.customer)
    response = client.get(f"/appeals/new/?acceleration={acceleration.pk}")
    assert response.status_code == 200
    assert 'name="kind" value="acceleration"' in response.content.decode()


# --- REPAYMENT_EXTENSION ------------------------------------------------------------------


def _installment():
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "3000.00", term=3, now=NOW - timedelta(days=5))
    first = Installment.objects.filter(account=account).order_by("sequence").first()
    return account, first


def test_an_approved_extension_appeal_moves_the_due_date_through_servicing(events):
    account, installment = _installment()
    appeal = submit(account, "installment", installment)

    approve(appeal, officer(), extension_days=20)

    moved = Installment.objects.get(pk=installment.pk)
    assert moved.due_date == installment.due_date + timedelta(days=20)
    extension = InstallmentExtension.objects.get(installment=installment)
    assert (extension.days, extension.actor) == (20, None)
    assert f"appeal #{appeal.pk}" in extension.reason
    appeal = reload(appeal)
    assert appeal.extension_days == 20
    assert appeal.effect_reference == f"servicing.installmentextension:{extension.pk}"
    assert EventType.INSTALLMENT_EXTENDED in [e.event for e in events]


def test_the_default_extension_is_30_days():
    account, installment = _installment()
    appeal = submit(account, "installment", installment)
    approve(appeal)
    assert Installment.objects.get(pk=installment.pk).due_date == installment.due_date + timedelta(
        days=30
    )


def test_a_refusal_of_servicing_refuses_the_decision_and_writes_nothing():
    account, installment = _installment()
    appeal = submit(account, "installment", installment)
    installment_extend(
        installment=installment, days=5, actor=None, now=NOW, reason="one already used"
    )
    reviewer = officer()
    services.appeal_assign(appeal=appeal, actor=reviewer, now=NOW)
    before = row_counts()

    with pytest.raises(Exception) as refused:
        approve(appeal, reviewer)

    assert getattr(refused.value, "code", "") == "extension_already_used"
    assert row_counts() == before
    assert reload(appeal).status == AppealStatus.IN_REVIEW


def test_a_settled_installment_cannot_be_appealed():
    account, installment = _installment()
    Installment.objects.filter(pk=installment.pk).update(status="PAID")
    with pytest.raises(AppealTargetNotEligible):
        submit(account, "installment", installment)


def test_the_overview_shows_the_acceleration_demand_with_its_reason_and_appeal_link(client):
    account, acceleration = _accelerated()
    client.force_login(account.customer)
    page = client.get("/").content.decode()
    assert 'data-notice="acceleration"' in page
    assert "多头借贷，还款能力存疑" in page
    assert f"kind=acceleration&amp;target={acceleration.pk}" in page
