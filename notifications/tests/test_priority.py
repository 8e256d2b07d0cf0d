"""The daily SMS cap by importance: every event has a class, a customer's due rows are served
most important first, and each class leaves the room kept for the classes above it."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from conftest import shanghai
from core.events import EventType
from notifications.catalogue import (
    DEFAULT_PRIORITY,
    POLICIES,
    URGENT_EVENTS,
    EventPolicy,
    Priority,
    priority_for,
)
from notifications.models import Notification, NotificationStatus, SkipReason
from notifications.services import notifications_dispatch
from notifications.tests.factories import NOW, NotificationFactory

pytestmark = pytest.mark.django_db

# A reminder that names no account: no app judges it past its use.
REMINDER = {"amount": "407.20", "due_date": "2026-03-13", "installments": 1}
MORNING = shanghai(2026, 3, 10, 9, 0)
EVENING = shanghai(2026, 3, 10, 18, 0)


def test_every_event_names_its_class_in_the_catalogue():
    unclassified = [e for e in EventType if POLICIES.get(e, EventPolicy()).priority is None]
    assert not unclassified, f"give these a Priority in notifications/catalogue.py: {unclassified}"


def test_the_classes_of_the_issue():
    assert priority_for(EventType.LOGIN_CODE) == Priority.SECURITY
    for event in (
        EventType.ACCOUNT_FROZEN,
        EventType.LIMIT_CUT,
        EventType.LIMIT_DECREASE_PENDING,
        EventType.ACCELERATION,
        EventType.APPEAL_DECIDED,
    ):
        assert priority_for(event) == Priority.ACCOUNT_STATE, event
    for event in (EventType.DUE_TODAY, EventType.OVERDUE_DAY_1, EventType.OVERDUE_DAY_7):
        assert priority_for(event) == Priority.REMINDER, event
    assert priority_for(EventType.PURCHASE_CONFIRMED) == Priority.CONFIRMATION
    assert priority_for(EventType.MARKETING) == Priority.MARKETING


def test_an_event_without_a_class_counts_as_an_account_state_change():
    assert EventPolicy().importance == DEFAULT_PRIORITY == Priority.ACCOUNT_STATE
    assert priority_for("SOMETHING_NEW") == Priority.ACCOUNT_STATE


def test_a_security_notice_is_sent_at_once_whatever_its_urgent_flag():
    assert EventPolicy(priority=Priority.SECURITY).sent_at_once
    assert EventType.LOGIN_CODE in URGENT_EVENTS
    assert EventType.ACCOUNT_FROZEN not in URGENT_EVENTS


def _sent(user, event, count, at):
    for _n in range(count):
        NotificationFactory(
            user=user, event=event, status=NotificationStatus.SENT, sent_at=at, created_at=at
        )


def _status(row):
    row.refresh_from_db()
    return row.status, row.skip_reason


def test_the_last_slot_goes_to_the_freeze_not_the_older_confirmation(settings):
    """Within one claim a customer's rows are served by class, not in arrival order."""
    settings.NOTIFICATIONS_SMS_CAP_RESERVED = {}
    user = UserFactory()
    _sent(user, EventType.LIMIT_CUT, 4, MORNING)
    confirmation = NotificationFactory(
        user=user, event=EventType.PURCHASE_CONFIRMED, created_at=NOW - timedelta(minutes=5)
    )
    frozen = NotificationFactory(user=user, event=EventType.ACCOUNT_FROZEN, created_at=NOW)

    notifications_dispatch(now=NOW)

    assert _status(frozen) == (NotificationStatus.SENT, "")
    assert _status(confirmation) == (NotificationStatus.SKIPPED, SkipReason.DAILY_CAP)


def test_confirmations_in_the_morning_leave_room_for_a_freeze_in_the_evening():
    """Cap 5: confirmations use at most 2, reminders 3; the last 2 wait for account-state changes."""
    user = UserFactory()
    confirmations = [
        NotificationFactory(
            user=user,
            event=EventType.PURCHASE_CONFIRMED,
            created_at=MORNING,
            next_attempt_at=MORNING,
        )
        for _n in range(4)
    ]
    notifications_dispatch(now=MORNING)
    reminders = [
        NotificationFactory(user=user, event=EventType.DUE_TODAY, created_at=NOW, context=REMINDER)
        for _n in range(2)
    ]
    notifications_dispatch(now=NOW)
    account_state = [
        NotificationFactory(user=user, event=EventType.ACCOUNT_FROZEN, created_at=EVENING),
        NotificationFactory(user=user, event=EventType.LIMIT_CUT, created_at=EVENING),
        NotificationFactory(user=user, event=EventType.APPEAL_DECIDED, created_at=EVENING),
    ]
    notifications_dispatch(now=EVENING)

    assert [_status(r) for r in confirmations] == [(NotificationStatus.SENT, "")] * 2 + [
        (NotificationStatus.SKIPPED, SkipReason.RESERVED_ROOM)
    ] * 2
    assert [_status(r) for r in reminders] == [
        (NotificationStatus.SENT, ""),
        (NotificationStatus.SKIPPED, SkipReason.RESERVED_ROOM),
    ]
    assert [_status(r) for r in account_state] == [(NotificationStatus.SENT, "")] * 2 + [
        (NotificationStatus.SKIPPED, SkipReason.DAILY_CAP)
    ]
    held = Notification.objects.get(pk=confirmations[-1].pk)
    assert held.last_error == (
        "2 of the daily SMS cap of 5 used; the last 3 are kept for notices more important "
        "than a confirmation; the in-app notice carries it"
    )


def test_the_room_kept_for_each_class_is_configurable(settings):
    settings.NOTIFICATIONS_SMS_CAP_RESERVED = {"ACCOUNT_STATE": 4, "REMINDER": 0}
    user = UserFactory()
    first, second = (
        NotificationFactory(user=user, event=EventType.DUE_TODAY, context=REMINDER)
        for _n in range(2)
    )

    notifications_dispatch(now=NOW)

    assert _status(first) == (NotificationStatus.SENT, "")
    assert _status(second) == (NotificationStatus.SKIPPED, SkipReason.RESERVED_ROOM)


def test_security_codes_are_not_held_by_the_reserved_room(settings):
    settings.NOTIFICATIONS_SMS_CAP_RESERVED = {"ACCOUNT_STATE": 5}
    user = UserFactory()
    code = NotificationFactory(user=user, event=EventType.LOGIN_CODE)

    notifications_dispatch(now=NOW)

    assert _status(code) == (NotificationStatus.SENT, "")


def test_the_database_refuses_a_held_row_that_does_not_say_why_and_a_sent_row_that_does():
    row = NotificationFactory()
    for status, reason in ((NotificationStatus.SKIPPED, ""), (NotificationStatus.PENDING, "X")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.filter(pk=row.pk).update(status=status, skip_reason=reason)
