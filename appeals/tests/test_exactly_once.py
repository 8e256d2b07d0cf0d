"""A decision submitted twice (double click, two reviewers, two threads) takes effect once."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from appeals import services
from appeals.errors import AppealAlreadyDecided, AppealAlreadyOpen, TooManyAppeals
from appeals.models import Appeal, AppealStatus
from appeals.tests.factories import NOW, cut, freeze, submit
from core.events import EventType
from credit.models import CreditAccount, LimitChange, LimitChangeKind
from notifications.models import Notification
from testkit import reload
from testkit.credit import open_account
from testkit.people import manager, officer

D = Decimal


def _race(calls):
    """Run the calls at the same instant in separate threads (separate connections)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome is what the test checks
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _approve(appeal, actor, minutes=0):
    return lambda: services.appeal_decide(
        appeal=appeal,
        actor=actor,
        outcome=AppealStatus.APPROVED,
        note="restore",
        now=NOW + timedelta(hours=1, minutes=minutes),
    )


def _appeal_cut():
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    return account, submit(account, "limit_change", change)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_the_same_instant_restore_the_limit_once():
    account, appeal = _appeal_cut()
    first, second = officer(), officer()
    services.appeal_assign(appeal=appeal, actor=first, now=NOW)

    outcomes = _race([_approve(appeal, first), _approve(appeal, second, minutes=1)])

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], AppealAlreadyDecided), outcomes
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")
    assert LimitChange.objects.filter(account=account, kind=LimitChangeKind.APPEAL).count() == 1
    decided = Notification.objects.filter(user=account.customer, event=EventType.APPEAL_DECIDED)
    assert decided.values("dedupe_key").distinct().count() == 1
    assert reload(appeal).status == AppealStatus.APPROVED


@pytest.mark.django_db
def test_the_same_decision_submitted_twice_in_a_row_is_refused_the_second_time():
    account, appeal = _appeal_cut()
    reviewer = officer()
    _approve(appeal, reviewer)()

    with pytest.raises(AppealAlreadyDecided):
        _approve(appeal, reviewer)()

    assert LimitChange.objects.filter(account=account, kind=LimitChangeKind.APPEAL).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_managers_confirming_a_large_approval_at_once_apply_it_once(settings):
    settings.APPEALS_SECOND_APPROVAL_ABOVE = Decimal("1000.00")
    account, appeal = _appeal_cut()
    maker = officer()
    _approve(appeal, maker)()
    assert reload(appeal).status == AppealStatus.AWAITING_CONFIRMATION
    checker_a, checker_b = manager(), manager()

    outcomes = _race(
        [
            lambda: services.appeal_confirm(appeal=appeal, actor=checker_a, note="ok", now=NOW),
            lambda: services.appeal_confirm(appeal=appeal, actor=checker_b, note="ok", now=NOW),
        ]
    )

    assert sum(isinstance(o, AppealAlreadyDecided) for o in outcomes) == 1, outcomes
    assert LimitChange.objects.filter(account=account, kind=LimitChangeKind.APPEAL).count() == 1
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")


@pytest.mark.django_db(transaction=True)
def test_five_simultaneous_submissions_of_one_customer_let_exactly_three_through():
    account = open_account("10000.00")
    changes = [cut(account, f"{9000 - 1000 * i}.00") for i in range(5)]

    outcomes = _race(
        [
            lambda change=change: services.appeal_submit(
                customer=account.customer,
                kind="limit_change",
                target_id=change.pk,
                reason="race",
                now=NOW,
            )
            for change in changes
        ]
    )

    assert sum(isinstance(o, TooManyAppeals) for o in outcomes) == 2, outcomes
    assert Appeal.objects.filter(customer=account.customer).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_appeals_on_one_decision_open_one():
    other = open_account()
    freeze(other)

    outcomes = _race(
        [
            lambda: services.appeal_submit(
                customer=other.customer, kind="freeze", target_id=other.pk, reason="a", now=NOW
            ),
            lambda: services.appeal_submit(
                customer=other.customer, kind="freeze", target_id=other.pk, reason="b", now=NOW
            ),
        ]
    )

    assert sum(isinstance(o, AppealAlreadyOpen) for o in outcomes) == 1, outcomes
    assert Appeal.objects.filter(customer=other.customer).count() == 1
