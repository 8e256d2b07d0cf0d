"""Due reminders: one set-based statement, one reminder per account and due date, never twice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from conftest import shanghai
from core.events import EventType
from credit.models import InstallmentStatus
from credit.servicing.errors import ReminderDateInFuture
from credit.servicing.services import reminders_generate
from credit.servicing.services.reminders import reminder_kinds
from credit.servicing.tests.factories import InstallmentFactory, InstallmentPlanFactory
from notifications.models import Channel, Notification, NotificationStatus
from notifications.tests.factories import NOW, TODAY
from testkit.credit import open_account

pytestmark = pytest.mark.django_db


def _due(account, due_date, **kwargs):
    plan = InstallmentPlanFactory(purchase__account=account)
    return InstallmentFactory(plan=plan, due_date=due_date, **kwargs)


def _reminders(channel=Channel.SMS):
    return {
        (n.event, n.context["due_date"]): n
        for n in Notification.objects.filter(dedupe_key__startswith="reminder:", channel=channel)
    }


def test_each_kind_of_reminder_is_written_for_the_business_date():
    account = open_account(email="li@example.com")
    for days in (3, 0, -1, -3, -7):
        _due(account, TODAY + timedelta(days=days))
    _due(account, TODAY + timedelta(days=2))  # no reminder on this day
    _due(account, TODAY - timedelta(days=2))

    written = reminders_generate(business_date=TODAY, now=NOW)

    assert written == 15  # 5 reminders × (SMS, email, in-app)
    assert set(_reminders()) == {
        (EventType.DUE_IN_3_DAYS, "2026-03-13"),
        (EventType.DUE_TODAY, "2026-03-10"),
        (EventType.OVERDUE_DAY_1, "2026-03-09"),
        (EventType.OVERDUE_DAY_3, "2026-03-07"),
        (EventType.OVERDUE_DAY_7, "2026-03-03"),
    }
    sms = _reminders()[(EventType.DUE_TODAY, "2026-03-10")]
    assert (sms.user, sms.status, sms.next_attempt_at) == (account.customer, "PENDING", NOW)
    assert sms.template_key == "due_today"
    assert sms.dedupe_key == f"reminder:{account.pk:012d}:2026-03-10:DUE_TODAY"
    in_app = _reminders(Channel.IN_APP)[(EventType.DUE_TODAY, "2026-03-10")]
    assert (in_app.status, in_app.sent_at) == (NotificationStatus.SENT, NOW)


def test_one_reminder_per_account_and_due_date_sums_what_is_left_to_pay():
    account = open_account()
    _due(account, TODAY)  # 400.00 + 7.20
    _due(account, TODAY, principal_paid=Decimal("100.00"), penalty=Decimal("3.30"))  # 310.50
    _due(account, TODAY, status=InstallmentStatus.PAID)  # paid: no part of the reminder
    other = open_account()
    _due(other, TODAY)

    reminders_generate(business_date=TODAY, now=NOW)

    rows = Notification.objects.filter(event=EventType.DUE_TODAY, channel=Channel.SMS)
    by_account = {n.context["account_id"]: n.context for n in rows}
    assert by_account[account.pk] == {
        "amount": "717.70",
        "due_date": "2026-03-10",
        "installments": 2,
        "account_id": account.pk,
    }
    assert by_account[other.pk]["amount"] == "407.20"
    assert rows.count() == 2


def test_overdue_installments_get_reminders_and_paid_or_waived_ones_do_not():
    account = open_account()
    _due(account, TODAY - timedelta(days=1), status=InstallmentStatus.OVERDUE)
    _due(account, TODAY - timedelta(days=3), status=InstallmentStatus.PAID)
    _due(account, TODAY - timedelta(days=7), status=InstallmentStatus.WAIVED)

    reminders_generate(business_date=TODAY, now=NOW)

    assert set(_reminders()) == {(EventType.OVERDUE_DAY_1, "2026-03-09")}


def test_a_rerun_inserts_nothing():
    account = open_account()
    for days in (3, 0, -1):
        _due(account, TODAY + timedelta(days=days))
    first = reminders_generate(business_date=TODAY, now=NOW)
    before = sorted(Notification.objects.values_list("pk", flat=True))

    again = reminders_generate(business_date=TODAY, now=NOW + timedelta(hours=2))

    assert (first, again) == (6, 0)
    assert sorted(Notification.objects.values_list("pk", flat=True)) == before


def test_reminders_are_one_statement_whatever_the_number_of_installments(
    django_assert_max_num_queries,
):
    for _n in range(25):
        _due(open_account(), TODAY)

    with django_assert_max_num_queries(4):  # savepoint, work_mem, INSERT … SELECT, release
        written = reminders_generate(business_date=TODAY, now=NOW)

    assert written == 50


def test_a_catch_up_for_a_past_date_writes_no_stale_reminders():
    account = open_account()
    closed_date = date(2026, 3, 7)  # catching up three days late, on 10 March
    _due(account, date(2026, 3, 10))  # "due in 3 days" of 7 March: due today by now
    _due(account, date(2026, 3, 7))  # "due today" of 7 March: overdue by now
    _due(account, date(2026, 3, 6))  # "overdue day 1" of 7 March: overdue day 3 applies now
    _due(account, date(2026, 3, 4))  # "overdue day 3" of 7 March: still the latest word

    reminders_generate(business_date=closed_date, now=NOW)

    assert set(_reminders()) == {(EventType.OVERDUE_DAY_3, "2026-03-04")}


def test_a_catch_up_one_day_late_still_warns_of_an_upcoming_due_date():
    account = open_account()
    _due(account, date(2026, 3, 12))  # due in 3 days as of 9 March; still two days away

    reminders_generate(business_date=date(2026, 3, 9), now=NOW)

    assert set(_reminders()) == {(EventType.DUE_IN_3_DAYS, "2026-03-12")}


@pytest.mark.parametrize(
    ("business_date", "expected"),
    [
        (TODAY, {"DUE_IN_3_DAYS", "DUE_TODAY", "OVERDUE_DAY_1", "OVERDUE_DAY_3", "OVERDUE_DAY_7"}),
        (
            TODAY - timedelta(days=1),
            {"DUE_IN_3_DAYS", "OVERDUE_DAY_1", "OVERDUE_DAY_3", "OVERDUE_DAY_7"},
        ),
        (TODAY - timedelta(days=2), {"DUE_IN_3_DAYS", "OVERDUE_DAY_3", "OVERDUE_DAY_7"}),
        (TODAY - timedelta(days=3), {"OVERDUE_DAY_3", "OVERDUE_DAY_7"}),
        (TODAY - timedelta(days=4), {"OVERDUE_DAY_7"}),
        (TODAY - timedelta(days=7), set()),
    ],
)
def test_the_catch_up_rule_keeps_each_reminder_until_the_next_one_takes_over(
    business_date, expected
):
    kinds = reminder_kinds(business_date=business_date, today=TODAY)

    assert {event for _due_date, event in kinds} == expected


def test_a_business_date_after_today_is_refused():
    with pytest.raises(ReminderDateInFuture):
        reminders_generate(business_date=TODAY + timedelta(days=1), now=NOW)


def test_today_is_judged_in_shanghai():
    _due(open_account(), date(2026, 3, 11))
    # Still 10 March in UTC (16:30), already 11 March in Shanghai: not a future date.
    just_after_midnight = shanghai(2026, 3, 11, 0, 30)

    reminders_generate(business_date=date(2026, 3, 11), now=just_after_midnight)

    assert set(_reminders()) == {(EventType.DUE_TODAY, "2026-03-11")}


def test_reminder_sms_written_at_night_wait_for_eight_but_the_inbox_copy_does_not():
    _due(open_account(), date(2026, 3, 11))
    night = shanghai(2026, 3, 11, 0, 30)

    reminders_generate(business_date=date(2026, 3, 11), now=night)

    sms = Notification.objects.get(channel=Channel.SMS)
    in_app = Notification.objects.get(channel=Channel.IN_APP)
    assert sms.next_attempt_at == shanghai(2026, 3, 11, 8, 0)
    assert (in_app.status, in_app.created_at) == (NotificationStatus.SENT, night)


def test_customers_without_email_get_no_email_reminder():
    _due(open_account(email=""), TODAY)
    _due(open_account(email="li@example.com"), TODAY)

    reminders_generate(business_date=TODAY, now=NOW)

    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 1
    assert Notification.objects.filter(channel=Channel.SMS).count() == 2


def test_the_command_generates_todays_reminders_by_default(capsys):
    today = timezone.localdate()  # the command reads the real clock
    _due(open_account(), today)

    call_command("generate_reminders")

    assert f"2 reminder rows written for {today.isoformat()}" in capsys.readouterr().out
    assert set(_reminders()) == {(EventType.DUE_TODAY, today.isoformat())}


def test_the_command_refuses_a_future_date():
    with translation.override("en"), pytest.raises(CommandError, match="never ahead"):
        call_command("generate_reminders", "--date", "2999-01-01")
