"""Scenario (issue #12, Must 7): notices by importance and freshness on a busy SMS day."""

from datetime import date, timedelta

import pytest

from conftest import shanghai
from core.events import EventType
from credit.choices import FreezeReason
from credit.formulas import INSTALLMENT_OPEN
from credit.models import Installment
from credit.services import account_freeze
from credit.servicing.services import reminders_generate
from notifications.catalogue import Priority, priority_for
from notifications.models import Channel, Notification, NotificationStatus, SkipReason
from notifications.services import notifications_dispatch
from testkit import people
from testkit.credit import buy, open_account, repay

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 10)
BUSY = shanghai(2026, 4, 10, 10, 0)


def _pay_due(account, due: date, at):
    owed = sum(
        i.amount_due
        for i in Installment.objects.filter(INSTALLMENT_OPEN, account=account, due_date__lte=due)
    )
    repay(account, owed, now=at)


def _months_of_history_nobody_dispatched(account):
    """Like the demo's seed: months of purchases, reminders and repayments whose notices were
    all written in the past and are all due at once on the first busy morning."""
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 20, 20, 0))
    buy(account, "1200.00", term=6, now=shanghai(2026, 2, 15, 20, 0))
    for due, paid_at in ((date(2026, 2, 10), 12), (date(2026, 3, 10), None)):
        for days_before in (3, 0):
            day = due - timedelta(days=days_before)
            reminders_generate(business_date=day, now=shanghai(day.year, day.month, day.day, 0, 30))
        if paid_at:
            _pay_due(account, due, shanghai(due.year, due.month, due.day, paid_at, 0))
    # 10 March went unpaid: overdue reminders on the 11th and 13th, then paid on the 14th.
    for day in (date(2026, 3, 11), date(2026, 3, 13)):
        reminders_generate(business_date=day, now=shanghai(day.year, day.month, day.day, 0, 30))
    _pay_due(account, date(2026, 3, 10), shanghai(2026, 3, 14, 9, 0))
    reminders_generate(business_date=date(2026, 4, 7), now=shanghai(2026, 4, 7, 0, 30))


def test_a_busy_sms_day_sends_every_account_state_message_and_stale_confirmations_in_app_only():
    """The busy SMS day: a May confirmation went out and DUE_TODAY, OVERDUE_* and ACCOUNT_FROZEN
    were skipped in arrival order; now the freeze and today's reminder go out, the old
    confirmations and reminders expire in-app only, and every held SMS says why."""
    account = open_account(email="li@example.com")
    _months_of_history_nobody_dispatched(account)
    # The busy day itself: today's due reminder before dawn, a purchase, then a freeze.
    reminders_generate(business_date=TODAY, now=shanghai(2026, 4, 10, 0, 30))
    buy(account, "99.00", term=1, now=shanghai(2026, 4, 10, 9, 30))
    account_freeze(
        account=account,
        reason=FreezeReason.STAFF,
        actor=people.officer(),
        note="Suspected account takeover",
        now=shanghai(2026, 4, 10, 9, 45),
    )
    sms = Notification.objects.filter(channel=Channel.SMS)
    assert sms.count() >= 12  # the backlog: over 40 outbox rows, more than twice the SMS cap

    notifications_dispatch(now=BUSY, batch_size=500)  # the whole backlog due at once

    rows = list(sms.order_by("pk"))
    assert NotificationStatus.PENDING not in {r.status for r in rows}
    by_event = {}
    for row in rows:
        by_event.setdefault(row.event, []).append(row)
    account_state = [r for r in rows if priority_for(r.event) == Priority.ACCOUNT_STATE]
    assert account_state, "the freeze wrote its SMS"
    assert {r.status for r in account_state} == {NotificationStatus.SENT}
    # Today's reminder goes out; those of past due dates expire.
    today = [r for r in by_event[EventType.DUE_TODAY] if r.context["due_date"] == "2026-04-10"]
    assert [r.status for r in today] == [NotificationStatus.SENT]
    old_reminders = [
        r
        for r in rows
        if priority_for(r.event) == Priority.REMINDER and r.context["due_date"] < "2026-04-10"
    ]
    assert {r.event for r in old_reminders} >= {
        EventType.DUE_IN_3_DAYS,
        EventType.DUE_TODAY,
        EventType.OVERDUE_DAY_1,
        EventType.OVERDUE_DAY_3,
    }
    assert {(r.status, r.skip_reason) for r in old_reminders} == {
        (NotificationStatus.EXPIRED, SkipReason.PAST_USE)
    }
    # Confirmations from January to March: in-app only.
    stale = [
        r
        for r in rows
        if priority_for(r.event) == Priority.CONFIRMATION
        and r.created_at < BUSY - timedelta(hours=6)
    ]
    assert len(stale) >= 4  # two purchases, two repayments
    assert {(r.status, r.skip_reason) for r in stale} == {
        (NotificationStatus.EXPIRED, SkipReason.STALE_CONFIRMATION)
    }
    # This morning's purchase: the room left is kept for more important notices.
    fresh = [
        r
        for r in by_event[EventType.PURCHASE_CONFIRMED]
        if r.created_at >= BUSY - timedelta(hours=6)
    ]
    assert [(r.status, r.skip_reason) for r in fresh] == [
        (NotificationStatus.SKIPPED, SkipReason.RESERVED_ROOM)
    ]
    # Nothing dropped silently: every SMS not sent says why, and its inbox copy is there.
    held = [r for r in rows if r.status != NotificationStatus.SENT]
    assert all(r.skip_reason and r.last_error for r in held)
    inbox = set(
        Notification.objects.filter(channel=Channel.IN_APP).values_list("dedupe_key", flat=True)
    )
    assert {r.dedupe_key for r in held} <= inbox
    assert sum(r.status == NotificationStatus.SENT for r in rows) <= 5
