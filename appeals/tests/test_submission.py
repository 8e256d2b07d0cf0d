"""Submitting an appeal: targets, ownership, and every rule refused with nothing written."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django_fsm_log.models import StateLog

from appeals import services
from appeals.errors import (
    AppealAlreadyOpen,
    AppealNotFound,
    AppealTargetNotEligible,
    ReasonTooShort,
    TooManyAppeals,
)
from appeals.models import Appeal, AppealAttachment, AppealStatus, AppealType
from appeals.tests.factories import NOW, cut, freeze, pdf, submit
from core.events import EventType
from credit.services import limit_set
from testkit import reload
from testkit.credit import buy, launch_fee_schedule, open_account

pytestmark = pytest.mark.django_db


def counts():
    return (Appeal.objects.count(), AppealAttachment.objects.count(), StateLog.objects.count())


def test_a_customer_appeals_a_limit_cut_and_gets_a_deadline_48_hours_later(events):
    account = open_account()
    change = cut(account, "4000.00")

    appeal = submit(account, "limit_change", change)

    appeal = reload(appeal)
    assert appeal.type == AppealType.LIMIT_DECREASE
    assert appeal.status == AppealStatus.SUBMITTED
    assert appeal.target == change
    assert appeal.account == account and appeal.customer == account.customer
    assert appeal.submitted_at == NOW
    assert appeal.due_at == NOW + timedelta(hours=48)
    log = StateLog.objects.for_(appeal).get()
    assert (log.transition, log.state, log.by, log.timestamp) == (
        "submit",
        AppealStatus.SUBMITTED,
        account.customer,
        NOW,
    )
    received = [e for e in events if e.event == EventType.APPEAL_RECEIVED]
    assert len(received) == 1
    assert received[0].user_id == account.customer_id
    assert received[0].context["appeal_id"] == appeal.pk
    assert received[0].context["respond_by"] == "2026-03-12"
    assert received[0].dedupe_key == f"appeal:{appeal.pk}:received"


def test_the_appeal_type_alone_means_its_default_target_kind():
    account = open_account()
    freeze(account)

    appeal = submit(account, AppealType.FREEZE)

    assert appeal.type == AppealType.FREEZE
    assert appeal.target_object_id == account.pk


def test_appealing_another_customers_decision_is_not_found_and_writes_nothing():
    mine, theirs = open_account(), open_account()
    their_cut = cut(theirs, "1000.00")
    freeze(theirs)
    before = counts()

    for kind, target in (("limit_change", their_cut), ("freeze", theirs)):
        with pytest.raises(AppealNotFound):
            services.appeal_submit(
                customer=mine.customer, kind=kind, target_id=target.pk, reason="x" * 30, now=NOW
            )

    assert counts() == before


@pytest.mark.parametrize("kind", ["nonsense", "", "credit.LimitChange"])
def test_an_unknown_target_kind_is_not_found(kind):
    account = open_account()
    with pytest.raises(AppealNotFound):
        services.appeal_submit(
            customer=account.customer, kind=kind, target_id=account.pk, reason="x", now=NOW
        )


def test_a_target_id_that_does_not_exist_is_not_found():
    account = open_account()
    with pytest.raises(AppealNotFound):
        services.appeal_submit(
            customer=account.customer, kind="limit_change", target_id=10**9, reason="x", now=NOW
        )


def test_a_limit_increase_cannot_be_appealed():
    account = open_account("5000.00")
    raise_ = limit_set(
        account=account,
        new_base_limit=account.base_limit * 2,
        reason_codes=["GOOD_HISTORY"],
        kind="RESCORE",
        now=NOW - timedelta(days=1),
    )
    with pytest.raises(AppealTargetNotEligible):
        submit(account, "limit_change", raise_)
    assert not Appeal.objects.exists()


def test_a_freeze_appeal_is_refused_when_the_account_is_not_frozen():
    account = open_account()
    with pytest.raises(AppealTargetNotEligible) as refused:
        submit(account, "freeze")
    assert "not frozen" in str(refused.value.message)
    assert not Appeal.objects.exists()


def test_restoration_is_refused_for_an_account_in_good_standing_with_credit_left():
    account = open_account()
    with pytest.raises(AppealTargetNotEligible):
        submit(account, "restoration", reason="x" * 40)


def test_restoration_is_open_to_an_account_whose_limit_is_used_up():
    launch_fee_schedule()
    account = open_account("1000.00")
    buy(account, "1000.00", now=NOW - timedelta(days=3))

    appeal = submit(account, "restoration", reason="I need my limit back for school fees.")

    assert appeal.type == AppealType.RESTORATION


def test_a_second_open_appeal_on_the_same_decision_is_refused_until_the_first_is_closed():
    account = open_account()
    freeze(account)
    first = submit(account, "freeze")
    before = counts()

    with pytest.raises(AppealAlreadyOpen):
        submit(account, "freeze")
    assert counts() == before

    services.appeal_withdraw(appeal=first, customer=account.customer, now=NOW)
    second = submit(account, "freeze", now=NOW + timedelta(minutes=1))
    assert second.pk != first.pk


def test_the_database_itself_refuses_two_open_appeals_on_one_target():
    account = open_account()
    freeze(account)
    first = submit(account, "freeze")
    duplicate = Appeal(
        customer=first.customer,
        account=first.account,
        type=first.type,
        target_content_type=first.target_content_type,
        target_object_id=first.target_object_id,
        freeze_reason=first.freeze_reason,
        reason="again",
        submitted_at=NOW,
        due_at=NOW + timedelta(hours=48),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_fourth_appeal_within_24_hours_is_refused_and_a_day_later_allowed():
    account = open_account()
    changes = [cut(account, amount) for amount in ("9000.00", "8000.00", "7000.00", "6000.00")]
    for hours, change in enumerate(changes[:3]):
        submit(account, "limit_change", change, now=NOW + timedelta(hours=hours))
    before = counts()

    with pytest.raises(TooManyAppeals) as refused:
        submit(account, "limit_change", changes[3], now=NOW + timedelta(hours=23, minutes=59))
    assert refused.value.http_status == 429
    assert counts() == before

    # 24 hours after the first, one slot is free again.
    submit(account, "limit_change", changes[3], now=NOW + timedelta(hours=24))
    assert Appeal.objects.count() == 4


def test_withdrawn_appeals_still_count_towards_the_daily_limit():
    account = open_account()
    changes = [cut(account, amount) for amount in ("9000.00", "8000.00", "7000.00", "6000.00")]
    for change in changes[:3]:
        appeal = submit(account, "limit_change", change)
        services.appeal_withdraw(appeal=appeal, customer=account.customer, now=NOW)
    with pytest.raises(TooManyAppeals):
        submit(account, "limit_change", changes[3])


def test_the_daily_limit_is_a_setting(settings):
    settings.APPEALS_MAX_NEW_PER_24H = 1
    account = open_account()
    first, second = cut(account, "9000.00"), cut(account, "8000.00")
    submit(account, "limit_change", first)
    with pytest.raises(TooManyAppeals):
        submit(account, "limit_change", second)


def test_the_daily_limit_is_per_customer():
    one, other = open_account(), open_account()
    for amount in ("9000.00", "8000.00", "7000.00"):
        submit(one, "limit_change", cut(one, amount))
    freeze(one)
    freeze(other)
    with pytest.raises(TooManyAppeals):
        submit(one, "freeze")  # the first customer has used the day's three

    appeal = submit(other, "freeze")  # not affected by the first customer's three

    assert (appeal.customer, appeal.status) == (other.customer, AppealStatus.SUBMITTED)
    assert Appeal.objects.filter(customer=other.customer).count() == 1


def test_a_restoration_reason_needs_20_characters_not_counting_surrounding_spaces():
    account = open_account()
    freeze(account)
    before = counts()
    with pytest.raises(ReasonTooShort) as refused:
        submit(account, "restoration", reason="   " + "x" * 19 + "   ", files=[pdf()])
    assert "20" in str(refused.value.message)
    assert counts() == before

    appeal = submit(account, "restoration", reason="x" * 20)
    assert appeal.reason == "x" * 20


def test_an_empty_reason_is_refused_for_any_type():
    account = open_account()
    freeze(account)
    with pytest.raises(ReasonTooShort):
        submit(account, "freeze", reason="   ")
    assert not Appeal.objects.exists()


def test_a_freeze_appeal_and_a_restoration_appeal_may_be_open_together():
    account = open_account()
    freeze(account)
    submit(account, "freeze")
    submit(account, "restoration", reason="I need the limit back: my income proof is attached.")
    assert Appeal.objects.filter(account=account).count() == 2
