"""Maker-checker: an approval giving back more than ¥20,000 needs a second, different risk manager."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django_fsm_log.models import StateLog

from appeals import services
from appeals.errors import AppealTransitionRefused, SameApproverRefused
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import NOW, cut, frozen_appeal, submit
from core.events import EventType
from core.permissions import NotPermitted
from credit.models import AccountStatus, CreditAccount, LimitChange, LimitChangeKind
from testkit import reload
from testkit.credit import open_account
from testkit.people import manager, officer

pytestmark = pytest.mark.django_db
D = Decimal
T1, T2 = NOW + timedelta(hours=1), NOW + timedelta(hours=2)


def _cut_appeal(old="50000.00", new="20000.00"):
    account = open_account(old)
    return account, submit(account, "limit_change", cut(account, new))


def _approve(appeal, actor):
    return services.appeal_decide(
        appeal=appeal, actor=actor, outcome=AppealStatus.APPROVED, note="first approval", now=T1
    )


def _appeal_limit_changes(account):
    return LimitChange.objects.filter(account=account, kind=LimitChangeKind.APPEAL).count()


def test_a_large_approval_waits_for_a_second_manager_and_changes_nothing_yet(events):
    account, appeal = _cut_appeal()
    maker = officer()

    _approve(appeal, maker)

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.AWAITING_CONFIRMATION
    assert appeal.approved_by == maker and appeal.approved_at == T1
    assert appeal.restored_amount == D("30000.00")
    assert appeal.decided_at is None
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("20000.00")
    assert _appeal_limit_changes(account) == 0
    assert EventType.APPEAL_DECIDED not in [e.event for e in events]


def test_a_different_risk_manager_confirms_and_the_limit_comes_back(events):
    account, appeal = _cut_appeal()
    maker, checker = officer(), manager()
    _approve(appeal, maker)

    services.appeal_confirm(appeal=appeal, actor=checker, note="Income proof checked.", now=T2)

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.APPROVED
    assert (appeal.approved_by, appeal.confirmed_by, appeal.decided_by) == (maker, checker, checker)
    assert appeal.decided_at == T2
    account = CreditAccount.objects.get(pk=account.pk)
    assert account.base_limit == D("50000.00")
    change = LimitChange.objects.get(account=account, kind=LimitChangeKind.APPEAL)
    assert change.actor == checker
    transitions = [log.transition for log in StateLog.objects.for_(appeal).order_by("pk")]
    assert transitions[-2:] == ["approve_pending_confirmation", "approve"]
    assert [e.event for e in events].count(EventType.APPEAL_DECIDED) == 1


def test_the_maker_cannot_confirm_their_own_approval_even_as_a_risk_manager():
    account, appeal = _cut_appeal()
    boss = manager()
    _approve(appeal, boss)

    with pytest.raises(SameApproverRefused):
        services.appeal_confirm(appeal=appeal, actor=boss, note="looks fine", now=T2)

    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION
    assert _appeal_limit_changes(account) == 0


def test_a_risk_officer_cannot_give_the_second_approval():
    account, appeal = _cut_appeal()
    _approve(appeal, officer())
    with pytest.raises(NotPermitted):
        services.appeal_confirm(appeal=appeal, actor=officer(), note="ok", now=T2)
    assert _appeal_limit_changes(account) == 0


def test_an_approval_awaiting_confirmation_cannot_be_decided_again_by_the_first_reviewer():
    _account, appeal = _cut_appeal()
    maker = officer()
    _approve(appeal, maker)
    with pytest.raises(AppealTransitionRefused):
        _approve(appeal, maker)


def test_the_checker_may_send_it_back_to_review_without_effect():
    account, appeal = _cut_appeal()
    maker, checker = officer(), manager()
    _approve(appeal, maker)

    services.appeal_confirmation_decline(
        appeal=appeal, actor=checker, note="Restore only to 30,000.", now=T2
    )

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.IN_REVIEW
    assert appeal.approved_by is None
    assert _appeal_limit_changes(account) == 0


def test_an_approval_of_exactly_the_threshold_takes_effect_at_once():
    account, appeal = _cut_appeal(old="40000.00", new="20000.00")  # gives back 20,000.00
    _approve(appeal, officer())
    assert reload(appeal).status == AppealStatus.APPROVED
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("40000.00")


def test_the_threshold_is_a_setting(settings):
    settings.APPEALS_SECOND_APPROVAL_ABOVE = Decimal("5000.00")
    _account, appeal = _cut_appeal(old="10000.00", new="4000.00")
    _approve(appeal, officer())
    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION


def test_unfreezing_a_large_line_counts_the_whole_usable_limit_it_gives_back():
    appeal = frozen_appeal(base_limit="30000.00")
    _approve(appeal, officer())
    appeal = reload(appeal)
    assert appeal.status == AppealStatus.AWAITING_CONFIRMATION
    assert appeal.restored_amount == D("30000.00")
    assert CreditAccount.objects.get(pk=appeal.account_id).status == AccountStatus.FROZEN


def test_the_database_refuses_a_checker_who_is_the_maker():
    _account, appeal = _cut_appeal()
    maker = officer()
    _approve(appeal, maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(confirmed_by=maker)
