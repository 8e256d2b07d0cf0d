"""Notices past their use expire instead of going out (EXPIRED, with the reason), on every
channel that pushes; the in-app copy stays in the inbox and the outbox admin says why."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from conftest import shanghai
from core.events import EventType, Notice
from credit.models import Installment, InstallmentStatus
from credit.servicing.services import reminders_generate
from credit.servicing.tests.factories import InstallmentFactory, InstallmentPlanFactory
from notifications.catalogue import POLICIES
from notifications.models import Channel, Notification, NotificationStatus, SkipReason
from notifications.services import notification_resend, notifications_dispatch
from notifications.services import notifications_enqueue as enqueue
from notifications.tests.factories import NOW, TODAY
from testkit import people
from testkit.credit import open_account

pytestmark = pytest.mark.django_db

PUSHED = (Channel.SMS, Channel.EMAIL)


def _due(account, due_date, **kwargs):
    plan = InstallmentPlanFactory(purchase__account=account)
    return InstallmentFactory(plan=plan, due_date=due_date, **kwargs)


def _rows(**filters):
    return {n.channel: n for n in Notification.objects.filter(**filters)}


def _confirmation(account, written_at):
    enqueue(
        notices=[
            Notice(
                EventType.REPAYMENT_RECEIVED,
                account.customer,
                dict(POLICIES[EventType.REPAYMENT_RECEIVED].sample),
                f"repaid:{written_at.isoformat()}",
            )
        ],
        now=written_at,
    )
    return _rows(dedupe_key=f"repaid:{written_at.isoformat()}")


def test_a_confirmation_older_than_six_hours_goes_in_app_only():
    account = open_account(email="li@example.com")
    stale = _confirmation(account, NOW - timedelta(hours=7))  # the broker was down all night
    fresh = _confirmation(account, NOW - timedelta(hours=5))

    report = notifications_dispatch(now=NOW)

    assert report.expired == 2
    for channel in PUSHED:
        row = Notification.objects.get(pk=stale[channel].pk)
        assert (row.status, row.skip_reason) == (
            NotificationStatus.EXPIRED,
            SkipReason.STALE_CONFIRMATION,
        )
        assert row.last_error == (
            "confirmation written 2026-03-10 03:00, more than 6 h before it could go out; "
            "the in-app notice carries it"
        )
        assert Notification.objects.get(pk=fresh[channel].pk).status == NotificationStatus.SENT
    assert stale[Channel.IN_APP].status == NotificationStatus.SENT  # still in the inbox


def test_the_age_of_a_stale_confirmation_is_configurable(settings):
    settings.NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS = 1
    rows = _confirmation(open_account(), NOW - timedelta(hours=2))

    notifications_dispatch(now=NOW)

    assert Notification.objects.get(pk=rows[Channel.SMS].pk).status == NotificationStatus.EXPIRED


def test_a_due_reminder_still_queued_after_its_due_date_expires_on_every_channel():
    account = open_account(email="li@example.com")
    _due(account, TODAY - timedelta(days=1))
    yesterday_evening = shanghai(2026, 3, 9, 21, 30)
    reminders_generate(business_date=TODAY - timedelta(days=1), now=yesterday_evening)
    # SMS waited for the quiet hours, email for a provider that was down: now it is the 10th.

    notifications_dispatch(now=NOW)

    rows = _rows(event=EventType.DUE_TODAY)
    for channel in PUSHED:
        assert (rows[channel].status, rows[channel].skip_reason) == (
            NotificationStatus.EXPIRED,
            SkipReason.PAST_USE,
        )
        assert rows[channel].last_error == (
            "due_today for 2026-03-09 is out of date on 2026-03-10; the in-app notice carries it"
        )
    assert rows[Channel.IN_APP].status == NotificationStatus.SENT


def test_a_due_reminder_of_an_installment_paid_meanwhile_expires_and_the_others_go_out():
    paid_account, open_one = open_account(email="li@example.com"), open_account()
    paid = _due(paid_account, TODAY + timedelta(days=3))
    _due(open_one, TODAY + timedelta(days=3))
    reminders_generate(business_date=TODAY, now=NOW)
    Installment.objects.filter(pk=paid.pk).update(status=InstallmentStatus.PAID)

    notifications_dispatch(now=NOW)

    for channel in PUSHED:
        row = Notification.objects.get(user=paid_account.customer, channel=channel)
        assert (row.status, row.skip_reason) == (NotificationStatus.EXPIRED, SkipReason.PAST_USE)
        assert row.last_error == (
            "nothing is left to pay for 2026-03-13; the in-app notice carries it"
        )
    other = Notification.objects.get(user=open_one.customer, channel=Channel.SMS)
    assert other.status == NotificationStatus.SENT


def test_staff_see_why_a_notice_was_not_sent_and_can_filter_by_reason(client):
    account = open_account()
    paid = _due(account, TODAY + timedelta(days=3))
    reminders_generate(business_date=TODAY, now=NOW)
    Installment.objects.filter(pk=paid.pk).update(status=InstallmentStatus.PAID)
    _confirmation(account, NOW)
    notifications_dispatch(now=NOW)
    staff = people.staff()
    staff.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(staff)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    changelist = reverse("admin:notifications_notification_changelist")

    response = client.get(changelist, {"skip_reason__exact": SkipReason.PAST_USE})

    page = response.content.decode()
    assert "Reminder paid or out of date: nothing is left to pay for 2026-03-13" in page
    assert "Not sent (past its use)" in page
    assert [n.event for n in response.context["cl"].result_list] == [EventType.DUE_IN_3_DAYS]
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(changelist, {"skip_reason__exact": SkipReason.PAST_USE}).content.decode()
    assert "提醒已还清或已过期: nothing is left to pay" in page


def test_a_resent_expired_notice_is_queued_without_its_old_reason():
    account = open_account()
    rows = _confirmation(account, NOW - timedelta(hours=7))
    notifications_dispatch(now=NOW)
    officer = people.officer()

    again = notification_resend(notification=rows[Channel.SMS], actor=officer, now=NOW)

    assert (again.status, again.skip_reason, again.last_error) == (
        NotificationStatus.PENDING,
        "",
        "",
    )
