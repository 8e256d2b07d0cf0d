"""Must 5 of issue #12: for every kind, what the appeal records, what the account shows and
what the customer is told agree (the record, the effect and the notice)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from appeals import services
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import NOW, cut, freeze, submit
from appeals.tests.test_decisions_risk import announce
from core.events import EventType
from credit.models import AccountStatus, CreditAccount, Installment, LimitChange
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.servicing.models import Acceleration, AccelerationStatus, InstallmentExtension
from credit.servicing.services import acceleration_demand
from credit.servicing.tests.helpers import close
from notifications.models import Channel
from notifications.rendering import notice_render
from testkit import reload
from testkit.credit import buy, launch_fee_schedule, open_account
from testkit.people import manager, officer

pytestmark = pytest.mark.django_db
D = Decimal
DECIDE_AT = NOW + timedelta(hours=3)
RESTORATION_REASON = "My salary doubled last month; payslips are attached here."


def approve(appeal, **decision) -> Appeal:
    services.appeal_decide(
        appeal=appeal,
        actor=officer(),
        outcome=AppealStatus.APPROVED,
        note="Checked with the customer.",
        now=DECIDE_AT,
        **decision,
    )
    return reload(appeal)


def decided_notice(events, appeal) -> dict:
    [notice] = [e for e in events if e.event == EventType.APPEAL_DECIDED]
    assert notice.context["appeal_id"] == appeal.pk
    return notice.context


def texts(context) -> dict[str, str]:
    """The in-app notice as the customer reads it, in both languages."""
    return {
        language: notice_render(
            channel=Channel.IN_APP,
            template_key="appeal_decided",
            language=language,
            context=context,
        ).body
        for language in ("en", "zh-hans")
    }


def referenced(appeal):
    label, pk = appeal.effect_reference.split(":")
    return label, int(pk)


def account_now(account) -> CreditAccount:
    return CreditAccount.objects.get(pk=account.pk)


# --- restoration ------------------------------------------------------------------------------


def test_a_restoration_to_an_amount_restores_exactly_that_amount_and_says_so(events):
    """The pain: ¥8,000 entered, ¥10,000 restored, the record 8,000 and 0.00, "partly"."""
    account = open_account("10000.00")
    freeze(account)
    appeal = submit(account, "restoration", reason=RESTORATION_REASON)

    appeal = approve(appeal, restore_to=D("8000.00"))

    # The effect: exactly ¥8,000, usable now, nothing waiting to lift it to ¥10,000.
    account = account_now(account)
    assert account.status == AccountStatus.RESTORED
    assert (account.base_limit, account.effective_limit) == (D("8000.00"), D("8000.00"))
    assert account.pre_incident_limit is None and account.probation_limit_cap is None
    # The record: what was entered, what came back, and the row that did it.
    assert appeal.restore_to == D("8000.00")
    assert appeal.restored_amount == D("8000.00")
    label, pk = referenced(appeal)
    change = LimitChange.objects.get(pk=pk)
    assert label == "credit.limitchange" and change.new_base_limit == D("8000.00")
    assert change.new_effective_limit == account.effective_limit
    # The notice: partly approved, because less came back than before the incident.
    notice = decided_notice(events, appeal)
    assert notice["outcome"] == "PARTIAL"
    assert notice["restored_to"] == "8000.00" == notice["effective_limit"]
    assert notice["restored_amount"] == str(appeal.restored_amount)
    assert notice["limit_before_incident"] == "10000.00"
    words = texts(notice)
    assert "partly approved" in words["en"] and "¥8,000.00" in words["en"]
    assert "部分通过" in words["zh-hans"] and "¥8,000.00" in words["zh-hans"]

    # Servicing's closes never cap it to a share of ¥10,000, nor lift it to ¥10,000.
    close(date(2026, 3, 11))
    account = account_now(account)
    assert (account.base_limit, account.effective_limit) == (D("8000.00"), D("8000.00"))


def test_a_restoration_to_the_full_amount_is_approved_in_full(events):
    account = open_account("10000.00")
    freeze(account)
    appeal = submit(account, "restoration", reason=RESTORATION_REASON)

    appeal = approve(appeal, restore_to=D("10000.00"))

    account = account_now(account)
    assert account.effective_limit == D("10000.00") == appeal.restored_amount
    notice = decided_notice(events, appeal)
    assert notice["outcome"] == "APPROVED" and "limit_before_incident" not in notice
    assert "¥10,000.00" in texts(notice)["en"] and "partly" not in texts(notice)["en"]


def test_a_restoration_of_a_line_that_still_owes_more_counts_the_limit_and_says_so(events):
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "9000.00", now=NOW - timedelta(days=5))
    cut(account, "5000.00")  # NEGATIVE: owes 9,000 against 5,000
    appeal = submit(account, "restoration", reason=RESTORATION_REASON)

    appeal = approve(appeal, restore_to=D("8000.00"))

    account = account_now(account)
    assert account.base_limit == D("8000.00") and account.status == AccountStatus.NEGATIVE
    assert appeal.restored_amount == D("3000.00")  # 5,000 → 8,000, not "0.00"
    notice = decided_notice(events, appeal)
    assert notice["account_status"] == AccountStatus.NEGATIVE
    assert notice["restored_to"] == str(account.base_limit)
    assert "You still owe more than your limit" in texts(notice)["en"]


def test_a_default_restoration_gives_the_pre_incident_limit_back_in_steps_and_says_so(events):
    account = open_account("10000.00")
    freeze(account)
    appeal = submit(account, "restoration", reason=RESTORATION_REASON)

    appeal = approve(appeal)

    account = account_now(account)
    assert account.base_limit == D("10000.00") == account.pre_incident_limit
    assert appeal.restore_to is None and appeal.restored_amount == D("10000.00")
    notice = decided_notice(events, appeal)
    assert notice["outcome"] == "APPROVED" and notice["in_steps"] is True
    assert "comes back in steps" in texts(notice)["en"]


# --- limit_change, pending_decrease, installment ---------------------------------------------


def test_a_limit_change_appeal_record_effect_and_notice_agree(events):
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    appeal = submit(account, "limit_change", change)

    appeal = approve(appeal)

    account = account_now(account)
    _label, pk = referenced(appeal)
    restored = LimitChange.objects.get(pk=pk)
    assert account.base_limit == restored.new_base_limit == change.old_base_limit
    assert appeal.restored_amount == account.effective_limit - change.new_effective_limit
    notice = decided_notice(events, appeal)
    assert (notice["outcome"], notice["effect"]) == ("APPROVED", "LIMIT_RESTORED")
    assert notice["restored_to"] == str(account.base_limit) == notice["base_limit"]
    assert "¥10,000.00" in texts(notice)["en"]


def test_a_pending_decrease_appeal_record_effect_and_notice_agree(events):
    account = open_account("10000.00")
    pending = announce(account, "4000.00")
    appeal = submit(account, "pending_decrease", pending)

    appeal = approve(appeal)

    assert PendingLimitDecrease.objects.get(pk=pending.pk).status == PendingStatus.CANCELLED
    assert referenced(appeal) == ("risk.pendinglimitdecrease", pending.pk)
    account = account_now(account)
    assert account.base_limit == D("10000.00")
    notice = decided_notice(events, appeal)
    assert notice["effect"] == "DECREASE_CANCELLED"
    assert notice["effective_limit"] == str(account.effective_limit)
    assert "cancelled" in texts(notice)["en"] and "¥10,000.00" in texts(notice)["en"]


def test_an_installment_appeal_record_effect_and_notice_agree(events):
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "3000.00", term=3, now=NOW - timedelta(days=5))
    installment = Installment.objects.filter(account=account).order_by("sequence").first()
    appeal = submit(account, "installment", installment)

    appeal = approve(appeal, extension_days=20)

    moved = Installment.objects.get(pk=installment.pk)
    assert moved.due_date == installment.due_date + timedelta(days=20)
    extension = InstallmentExtension.objects.get(installment=installment)
    assert referenced(appeal)[1] == extension.pk and appeal.extension_days == extension.days
    notice = decided_notice(events, appeal)
    assert notice["new_due_date"] == moved.due_date.isoformat()
    assert notice["extension_days"] == 20
    assert moved.due_date.strftime("%B") in texts(notice)["en"]


# --- freeze and acceleration: the parts that do not depend on the status reached -----------
# (The "reversal" helper makes these approvals a no-fault reversal to ACTIVE; these tests
# compare the record and the notice with the account, whatever status it lands in.)


def test_a_freeze_appeal_record_effect_and_notice_agree(events):
    account = open_account("10000.00")
    freeze(account)
    appeal = submit(account, "freeze")

    appeal = approve(appeal)

    account = account_now(account)
    assert account.status != AccountStatus.FROZEN and account.freeze_reasons == []
    assert referenced(appeal) == ("credit.creditaccount", account.pk)
    assert appeal.restored_amount == account.effective_limit
    notice = decided_notice(events, appeal)
    assert notice["effect"] == "UNFROZEN" and notice["account_status"] == account.status
    assert notice["effective_limit"] == str(account.effective_limit)
    assert "unfrozen" in texts(notice)["en"] and "解除冻结" in texts(notice)["zh-hans"]


def test_an_acceleration_appeal_record_effect_and_notice_agree(events):
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
    appeal = submit(account, "acceleration", acceleration)

    appeal = approve(appeal)

    assert Acceleration.objects.get(pk=acceleration.pk).status == AccelerationStatus.WITHDRAWN
    assert referenced(appeal) == ("servicing.acceleration", acceleration.pk)
    notice = decided_notice(events, appeal)
    assert notice["effect"] == "DEMAND_WITHDRAWN"
    assert notice["account_status"] == account_now(account).status
    assert "withdrawn" in texts(notice)["en"]
