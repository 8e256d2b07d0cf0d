"""Quiet hours (22:00–08:00 Asia/Shanghai) and the daily SMS cap, at fixed instants."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.tests.factories import UserFactory
from conftest import shanghai
from core.events import EventType, Notice
from notifications.catalogue import POLICIES
from notifications.models import Channel, Notification, NotificationStatus, SandboxSms, SkipReason
from notifications.services import notifications_dispatch, notifications_enqueue
from notifications.tests.factories import NOW, NotificationFactory
from notifications.timing import sms_send_at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (shanghai(2026, 3, 10, 21, 59), shanghai(2026, 3, 10, 21, 59)),
        (shanghai(2026, 3, 10, 22, 0), shanghai(2026, 3, 11, 8, 0)),
        (shanghai(2026, 3, 10, 23, 30), shanghai(2026, 3, 11, 8, 0)),
        (shanghai(2026, 3, 11, 3, 0), shanghai(2026, 3, 11, 8, 0)),
        (shanghai(2026, 3, 11, 7, 59), shanghai(2026, 3, 11, 8, 0)),
        (shanghai(2026, 3, 11, 8, 0), shanghai(2026, 3, 11, 8, 0)),
    ],
)
def test_an_sms_in_the_quiet_hours_waits_until_eight_in_shanghai(at, expected):
    assert sms_send_at(at) == expected


def test_quiet_hours_are_judged_in_shanghai_whatever_the_instants_zone():
    fifteen_utc = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai

    assert sms_send_at(fifteen_utc) == shanghai(2026, 3, 11, 8, 0)


def test_quiet_hours_are_configurable(settings):
    settings.NOTIFICATIONS_QUIET_HOURS = ("21:00", "09:30")

    assert sms_send_at(shanghai(2026, 3, 10, 21, 15)) == shanghai(2026, 3, 11, 9, 30)
    assert sms_send_at(shanghai(2026, 3, 11, 9, 0)) == shanghai(2026, 3, 11, 9, 30)
    settings.NOTIFICATIONS_QUIET_HOURS = ("00:00", "00:00")
    assert sms_send_at(shanghai(2026, 3, 11, 3, 0)) == shanghai(2026, 3, 11, 3, 0)


def _enqueue(user, event, key, now):
    context = dict(POLICIES[event].sample)
    notifications_enqueue(notices=[Notice(event, user, context, key)], now=now)
    return {n.channel: n for n in Notification.objects.filter(dedupe_key=key)}


def test_an_sms_published_at_night_waits_but_email_and_in_app_do_not():
    night = shanghai(2026, 3, 10, 23, 30)
    rows = _enqueue(UserFactory(email="li@example.com"), EventType.LIMIT_CUT, "cut:1", night)

    assert rows[Channel.SMS].next_attempt_at == shanghai(2026, 3, 11, 8, 0)
    assert rows[Channel.EMAIL].next_attempt_at == night
    assert rows[Channel.IN_APP].status == NotificationStatus.SENT
    assert notifications_dispatch(now=night).claimed_ids == [rows[Channel.EMAIL].pk]


def test_a_login_code_is_sent_at_night():
    night = shanghai(2026, 3, 11, 2, 0)
    rows = _enqueue(UserFactory(), EventType.LOGIN_CODE, "code:1", night)

    notifications_dispatch(now=night)

    rows[Channel.SMS].refresh_from_db()
    assert rows[Channel.SMS].status == NotificationStatus.SENT
    assert "284913" in SandboxSms.objects.get().text


def test_an_sms_due_during_the_quiet_hours_is_pushed_to_the_morning_when_claimed():
    # Written by day, retried after backoff at 22:05: it waits for 08:00 instead.
    row = NotificationFactory(status=NotificationStatus.FAILED, attempts=1)
    night = shanghai(2026, 3, 10, 22, 5)

    report = notifications_dispatch(now=night)

    row.refresh_from_db()
    assert (report.deferred, report.claimed_ids) == (1, [])
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 1)
    assert row.next_attempt_at == shanghai(2026, 3, 11, 8, 0)
    assert not SandboxSms.objects.exists()


def test_a_retry_that_would_land_in_the_quiet_hours_is_scheduled_for_eight(settings):
    settings.NOTIFICATIONS_SMS_PROVIDER = "notifications.tests.providers.BrokenSmsProvider"
    evening = shanghai(2026, 3, 10, 21, 59, 30)
    row = NotificationFactory(next_attempt_at=evening, created_at=evening)

    notifications_dispatch(now=evening)

    row.refresh_from_db()
    assert row.next_attempt_at == shanghai(2026, 3, 11, 8, 0)


def _sent_sms(user, count, at):
    for _n in range(count):
        NotificationFactory(user=user, status=NotificationStatus.SENT, sent_at=at)


def test_the_sixth_sms_of_the_day_is_skipped_and_its_in_app_copy_remains():
    user = UserFactory()
    _sent_sms(user, 4, shanghai(2026, 3, 10, 8, 30))
    rows = [_enqueue(user, EventType.LIMIT_CUT, f"cut:{n}", NOW) for n in range(2)]

    report = notifications_dispatch(now=NOW)

    fifth, sixth = (Notification.objects.get(pk=r[Channel.SMS].pk) for r in rows)
    assert (report.sent, report.skipped) == (1, 1)
    assert fifth.status == NotificationStatus.SENT
    assert (sixth.status, sixth.attempts) == (NotificationStatus.SKIPPED, 0)
    assert (sixth.skip_reason, sixth.last_error) == (
        SkipReason.DAILY_CAP,
        "daily SMS cap of 5 reached; the in-app notice carries it",
    )
    assert all(r[Channel.IN_APP].status == NotificationStatus.SENT for r in rows)
    assert SandboxSms.objects.count() == 1


def test_sms_sent_before_local_midnight_do_not_count_toward_today():
    user = UserFactory()
    _sent_sms(user, 5, shanghai(2026, 3, 9, 23, 59))  # yesterday, Shanghai time
    row = NotificationFactory(user=user)

    notifications_dispatch(now=NOW)

    assert Notification.objects.get(pk=row.pk).status == NotificationStatus.SENT


def test_sms_being_sent_by_another_worker_count_toward_the_cap():
    user = UserFactory()
    _sent_sms(user, 3, NOW - timedelta(hours=1))
    NotificationFactory(
        user=user, status=NotificationStatus.SENDING, next_attempt_at=NOW + timedelta(minutes=5)
    )
    first, second = (NotificationFactory(user=user, event=EventType.LIMIT_CUT) for _n in range(2))

    notifications_dispatch(now=NOW)

    assert Notification.objects.get(pk=first.pk).status == NotificationStatus.SENT
    assert Notification.objects.get(pk=second.pk).status == NotificationStatus.SKIPPED


def test_login_codes_neither_count_toward_nor_are_held_by_the_cap():
    user = UserFactory()
    _sent_sms(user, 5, NOW - timedelta(hours=1))
    codes = [
        NotificationFactory(user=user, event=EventType.LOGIN_CODE, template_key="login_code")
        for _n in range(2)
    ]

    notifications_dispatch(now=NOW)

    assert {Notification.objects.get(pk=c.pk).status for c in codes} == {NotificationStatus.SENT}


def test_the_cap_counts_per_customer(settings):
    settings.NOTIFICATIONS_SMS_DAILY_CAP = 1
    busy, quiet = UserFactory(), UserFactory()
    _sent_sms(busy, 1, NOW - timedelta(hours=1))
    busy_row, quiet_row = (
        NotificationFactory(user=user, event=EventType.LIMIT_CUT) for user in (busy, quiet)
    )

    notifications_dispatch(now=NOW)

    assert Notification.objects.get(pk=busy_row.pk).status == NotificationStatus.SKIPPED
    assert Notification.objects.get(pk=quiet_row.pk).status == NotificationStatus.SENT
