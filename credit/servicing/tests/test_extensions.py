"""延期: one installment moved by up to 30 days, once per plan, no penalty in the window."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.roles import Role
from conftest import shanghai
from core.permissions import NotPermitted
from credit.models import AccountStatus, InstallmentStatus, JournalEntry
from credit.services.errors import ReasonRequired
from credit.servicing.errors import (
    ExtensionAlreadyUsed,
    ExtensionDaysOutOfRange,
    ExtensionTooShort,
    InstallmentNotOpen,
    InstallmentUnderAcceleration,
)
from credit.servicing.models import InstallmentExtension
from credit.servicing.services import acceleration_demand, installment_extend
from credit.servicing.tests.helpers import (
    OPENED_AT,
    close_through,
    installments,
    penalty_journal,
    table_fingerprint,
)
from testkit import reload
from testkit.credit import buy, open_account, repay
from testkit.events import capture_events
from testkit.people import staff

D = Decimal
pytestmark = pytest.mark.django_db
EXTENDED_AT = shanghai(2026, 2, 20, 10, 0)


@pytest.fixture
def late():
    """¥3,000 in 3 periods; period 1 (due 10 February) unpaid: frozen on the 17th, 10 days
    late and 3.57 of penalty (7 days at 0.51) by 20 February."""
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 20))
    assert installments(account)[0].penalty == D("3.57")
    return account


@pytest.fixture
def officer():
    return staff(Role.RISK_OFFICER)


def extend(installment, days, actor, reason="疫情隔离，收入中断"):
    return installment_extend(
        installment=installment, days=days, actor=actor, now=EXTENDED_AT, reason=reason
    )


def test_an_extension_moves_the_due_date_and_waives_the_penalty_of_the_window(late, officer):
    first = installments(late)[0]
    with capture_events() as events:
        extension = extend(first, 30, officer)
    first.refresh_from_db()
    assert (first.due_date, first.status, first.days_past_due) == (
        date(2026, 3, 12),
        InstallmentStatus.PENDING,
        0,
    )
    assert (first.penalty_waived, first.penalty_due, first.penalty_accrued_through) == (
        D("3.57"),
        D("0"),
        None,
    )
    assert first.original_due_date == date(2026, 2, 10)
    assert first.plan.extended_at == EXTENDED_AT
    assert (extension.old_due_date, extension.new_due_date, extension.days) == (
        date(2026, 2, 10),
        date(2026, 3, 12),
        30,
    )
    assert (extension.actor, extension.penalty_waived) == (officer, D("3.57"))
    assert JournalEntry.objects.get(account=late, kind="PENALTY_WAIVER").reference == (
        f"extension:{extension.pk}"
    )
    assert penalty_journal(late) == D("0")
    [event] = events
    assert (event.event, event.context["old_due_date"], event.context["new_due_date"]) == (
        "INSTALLMENT_EXTENDED",
        "2026-02-10",
        "2026-03-12",
    )
    assert event.context["amount"] == "1024.00"


def test_no_penalty_accrues_in_the_window_and_the_overdue_freeze_lifts_at_the_next_close(
    late, officer
):
    first = installments(late)[0]
    extend(first, 30, officer)
    close_through(date(2026, 2, 21), date(2026, 3, 12))
    first.refresh_from_db()
    assert first.due_date == date(2026, 3, 12)
    assert (first.status, first.penalty_due) == (InstallmentStatus.PENDING, D("0"))
    account = reload(late)
    assert (account.status, account.freeze_reasons) == (AccountStatus.RESTORED, [])


def test_more_than_30_days_or_fewer_than_1_is_refused_with_a_clear_message(late, officer):
    before = table_fingerprint()
    for days in (31, 0, -5):
        with pytest.raises(ExtensionDaysOutOfRange) as refused:
            extend(installments(late)[0], days, officer)
        assert refused.value.code == "extension_days_out_of_range"
        assert "30" in str(refused.value.message)
    assert table_fingerprint() == before


def test_the_maximum_is_a_setting(late, officer, settings):
    settings.SERVICING_EXTENSION_MAX_DAYS = 10
    with pytest.raises(ExtensionDaysOutOfRange):
        extend(installments(late)[0], 11, officer)
    assert extend(installments(late)[0], 10, officer).new_due_date == date(2026, 2, 20)


def test_one_extension_per_plan(late, officer):
    first, second, _third = installments(late)
    extend(first, 30, officer)
    with pytest.raises(ExtensionAlreadyUsed) as refused:
        extend(second, 5, officer)
    assert refused.value.code == "extension_already_used"
    assert InstallmentExtension.objects.count() == 1


def test_a_due_date_still_in_the_past_after_extending_is_refused(late, officer):
    with pytest.raises(ExtensionTooShort) as refused:
        extend(installments(late)[0], 5, officer)  # 15 February: still 5 days late
    assert refused.value.extra == {"min_days": 10, "max_days": 30}
    assert not InstallmentExtension.objects.exists()


def test_an_installment_more_than_30_days_late_cannot_be_extended(officer):
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 3, 14), date(2026, 3, 15))  # 10 February: 33 days late
    with translation.override("en"), pytest.raises(ExtensionTooShort) as refused:
        installment_extend(
            installment=installments(account)[0],
            days=30,
            actor=officer,
            now=shanghai(2026, 3, 15, 9),
            reason="x",
        )
    assert "more than 30 days overdue" in str(refused.value.message)
    with translation.override("zh-hans"), pytest.raises(ExtensionTooShort) as refused:
        installment_extend(
            installment=installments(account)[0],
            days=30,
            actor=officer,
            now=shanghai(2026, 3, 15, 9),
            reason="x",
        )
    assert "逾期超过 30 天" in str(refused.value.message)


def test_a_paid_installment_cannot_be_extended(officer):
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    repay(account, "102.40", now=shanghai(2026, 2, 1))
    with pytest.raises(InstallmentNotOpen):
        extend(installments(account)[0], 10, officer)


def test_an_accelerated_installment_cannot_be_extended(late, officer):
    acceleration_demand(
        account=late, reason="逾期", actor=staff(Role.RISK_MANAGER), now=EXTENDED_AT
    )
    with pytest.raises(InstallmentUnderAcceleration):
        extend(installments(late)[2], 10, officer)


def test_risk_officers_and_managers_may_extend_support_agents_may_not(late):
    first = installments(late)[0]
    with pytest.raises(NotPermitted):
        extend(first, 30, staff(Role.SUPPORT_AGENT))
    with pytest.raises(NotPermitted):
        extend(first, 30, staff(Role.AUDITOR))
    assert extend(first, 30, staff(Role.RISK_MANAGER)).actor.has_perm(
        "servicing.extend_installment"
    )


def test_an_approved_appeal_extends_without_a_staff_actor_but_needs_a_reason(late):
    first = installments(late)[0]
    with pytest.raises(ReasonRequired):
        extend(first, 30, None, reason=" ")
    extension = extend(first, 30, None, reason="appeal 12 approved")
    assert extension.actor is None
