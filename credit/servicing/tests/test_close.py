"""The close itself: overdue and days past due, buckets with history, the calendar (month
ends, 29–31 February, the leap day), catch-up, idempotence, ordering and concurrency."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from importlib import import_module
from queue import Queue

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from conftest import shanghai
from credit.models import InstallmentStatus, JournalEntry
from credit.services import account_lock, repayment_apply
from credit.servicing.errors import BusinessDateInFuture, CloseOutOfOrder
from credit.servicing.models import (
    AccountDelinquency,
    BusinessDay,
    DelinquencyBucket,
    DelinquencyChange,
    bucket_for,
)
from credit.servicing.selectors import delinquency_bucket_on
from credit.servicing.services import business_day_close, business_day_close_one
from credit.servicing.tasks import close_business_day
from credit.servicing.tests.helpers import (
    OPENED_AT,
    close,
    close_instant,
    close_through,
    installments,
    table_fingerprint,
)
from notifications.models import Notification
from testkit.credit import assert_ledger_holds, buy, launch_fee_schedule, open_account, repay

D = Decimal
pytestmark = pytest.mark.django_db


def test_an_installment_due_yesterday_is_overdue_one_day_and_one_due_today_is_not():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))  # due 10 Feb, Mar, Apr
    close(date(2026, 2, 10))
    first = installments(account)[0]
    assert (first.due_date, first.status, first.days_past_due) == (
        date(2026, 2, 10),
        InstallmentStatus.PENDING,
        0,
    )
    close(date(2026, 2, 11))
    first.refresh_from_db()
    assert (first.status, first.days_past_due) == (InstallmentStatus.OVERDUE, 1)
    assert [i.status for i in installments(account)[1:]] == [InstallmentStatus.PENDING] * 2


def test_days_past_due_grow_daily_and_a_repaid_installment_keeps_how_late_it_was():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 11), date(2026, 2, 15))
    first = installments(account)[0]
    assert (first.status, first.days_past_due) == (InstallmentStatus.OVERDUE, 5)
    repay(account, "200.00", now=shanghai(2026, 2, 15, 9, 0))
    close(date(2026, 2, 16))
    first.refresh_from_db()
    assert (first.status, first.days_past_due) == (InstallmentStatus.PAID, 5)


def test_buckets_follow_the_oldest_overdue_installment_and_record_each_change_once():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))  # due 10 Feb, Mar, Apr
    close_through(date(2026, 2, 10), date(2026, 4, 12))
    state = AccountDelinquency.objects.get(account=account)
    # 10 Feb is 61 days before 12 Apr.
    assert (state.bucket, state.days_past_due, state.worst_days_past_due) == (
        DelinquencyBucket.DPD_61_90,
        61,
        61,
    )
    assert state.overdue_amount == D("300.00") + D("7.20")  # three periods, 2.40 fee each
    changes = list(
        DelinquencyChange.objects.filter(account=account)
        .order_by("business_date")
        .values_list("business_date", "old_bucket", "new_bucket")
    )
    assert changes == [
        (date(2026, 2, 11), "CURRENT", "DPD_1_30"),
        (date(2026, 3, 13), "DPD_1_30", "DPD_31_60"),
        (date(2026, 4, 12), "DPD_31_60", "DPD_61_90"),
    ]
    assert delinquency_bucket_on(account=account, on=date(2026, 3, 12)) == "DPD_1_30"
    assert delinquency_bucket_on(account=account, on=date(2026, 2, 1)) == "CURRENT"


def test_paying_everything_returns_the_account_to_current_with_a_history_row():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 12))
    repay(account, "102.40", now=shanghai(2026, 2, 12, 10, 0))
    close(date(2026, 2, 13))
    state = AccountDelinquency.objects.get(account=account)
    assert (state.bucket, state.days_past_due, state.last_overdue_date) == (
        "CURRENT",
        0,
        date(2026, 2, 12),
    )
    assert DelinquencyChange.objects.filter(account=account).count() == 2


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "CURRENT"),
        (1, "DPD_1_30"),
        (30, "DPD_1_30"),
        (31, "DPD_31_60"),
        (60, "DPD_31_60"),
        (61, "DPD_61_90"),
        (90, "DPD_61_90"),
        (91, "DPD_90_PLUS"),
        (400, "DPD_90_PLUS"),
    ],
)
def test_bucket_bounds_are_inclusive(days, bucket):
    assert bucket_for(days) == bucket


def test_due_day_31_falls_on_the_last_day_of_february_and_is_overdue_on_the_first_of_march():
    account = open_account(due_day=31, now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 10, 12, 0))  # 31 Jan, 28 Feb, 31 Mar
    assert [i.due_date for i in installments(account)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    repay(account, "102.40", now=shanghai(2026, 1, 30, 9, 0))
    close_through(date(2026, 2, 27), date(2026, 3, 1))
    feb, mar = installments(account)[1:]
    assert (feb.status, feb.days_past_due) == (InstallmentStatus.OVERDUE, 1)
    assert mar.status == InstallmentStatus.PENDING


@pytest.mark.parametrize("due_day", [29, 30, 31])
def test_due_days_29_to_31_in_a_leap_february_fall_on_the_leap_day(due_day):
    account = open_account(due_day=due_day, now=shanghai(2028, 1, 2, 9, 0))
    buy(account, "200.00", term=3, now=shanghai(2028, 1, 10, 12, 0))
    feb = installments(account)[1]
    assert feb.due_date == date(2028, 2, 29)
    repay(account, installments(account)[0].principal + D("1.60"), now=shanghai(2028, 1, 28))
    close_through(date(2028, 2, 28), date(2028, 3, 2))
    feb.refresh_from_db()
    # 29 Feb is one day before 1 March: the leap day counts.
    assert (feb.status, feb.days_past_due) == (InstallmentStatus.OVERDUE, 2)
    assert BusinessDay.objects.filter(business_date=date(2028, 2, 29)).exists()


def test_a_month_end_close_counts_days_across_months_of_30_and_31_days():
    account = open_account(due_day=30, now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 3, 1, 12, 0))  # 30 Mar, 30 Apr, 30 May
    close_through(date(2026, 3, 30), date(2026, 5, 1))
    first, second, _third = installments(account)
    assert (first.days_past_due, second.days_past_due) == (32, 1)  # 31 days in March


def test_a_ten_day_gap_is_closed_day_by_day_in_order_with_each_days_reminders_and_none_stale():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))  # first due 10 Feb
    close(date(2026, 2, 1))
    # The platform was down from 2 to 11 February; on the 12th the close catches up.
    closed = close(date(2026, 2, 12), now=close_instant(date(2026, 2, 12)))
    assert [d.business_date for d in closed] == [date(2026, 2, d) for d in range(2, 13)]
    assert [d.catch_up for d in closed] == [True] * 10 + [False]
    assert list(BusinessDay.objects.order_by("id").values_list("business_date", flat=True)) == [
        date(2026, 2, d) for d in range(1, 13)
    ]
    first = installments(account)[0]
    assert (first.status, first.days_past_due) == (InstallmentStatus.OVERDUE, 2)
    reminders = set(
        Notification.objects.filter(user=account.customer, event__startswith="DUE")
        .values_list("event", flat=True)
        .distinct()
    ) | set(
        Notification.objects.filter(user=account.customer, event__startswith="OVERDUE")
        .values_list("event", flat=True)
        .distinct()
    )
    # "Due in 3 days" (7 Feb) and "due today" (10 Feb) would be stale on the 12th; the
    # overdue-day-1 notice of the 11th is still true and goes out.
    assert reminders == {"OVERDUE_DAY_1"}


def test_closing_on_time_writes_each_reminder_on_its_day():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 6), date(2026, 2, 11))
    events = list(
        Notification.objects.filter(user=account.customer, channel="IN_APP")
        .exclude(event="PURCHASE_CONFIRMED")
        .order_by("id")
        .values_list("event", "created_at")
    )
    assert [e for e, _at in events] == ["DUE_IN_3_DAYS", "DUE_TODAY", "OVERDUE_DAY_1"]
    assert [timezone.localdate(at) for _e, at in events] == [
        date(2026, 2, 7),
        date(2026, 2, 10),
        date(2026, 2, 11),
    ]


def test_closing_the_same_day_twice_changes_nothing_the_second_time():
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 20))
    before = table_fingerprint()
    assert (
        business_day_close(business_date=date(2026, 2, 20), now=shanghai(2026, 2, 20, 9, 0)) == []
    )
    assert (
        business_day_close_one(business_date=date(2026, 2, 20), now=shanghai(2026, 2, 20, 9, 0))
        is None
    )
    call_command("close_business_day", "--date", "2026-02-20")
    assert table_fingerprint() == before


def test_an_earlier_date_than_the_last_close_is_a_no_op():
    close(date(2026, 2, 10))
    assert business_day_close(business_date=date(2026, 2, 5), now=shanghai(2026, 2, 10, 9)) == []
    assert BusinessDay.objects.count() == 1


def test_a_date_that_has_not_begun_is_refused():
    with pytest.raises(BusinessDateInFuture):
        business_day_close(business_date=date(2026, 2, 11), now=shanghai(2026, 2, 10, 23, 59))
    assert not BusinessDay.objects.exists()


def test_a_single_day_close_refuses_to_skip_a_day():
    close(date(2026, 2, 10))
    with pytest.raises(CloseOutOfOrder):
        business_day_close_one(business_date=date(2026, 2, 12), now=shanghai(2026, 2, 12, 1))


def test_the_business_day_records_each_steps_counts_and_timings():
    account = open_account(now=OPENED_AT)
    buy(account, "300.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    [day] = close(date(2026, 2, 11))
    assert day.steps["overdue"]["rows"] == 1
    assert day.steps["delinquency"]["bucket_changes"] == 1
    assert set(day.steps) >= {
        "lock",
        "overdue",
        "delinquency",
        "penalties",
        "freezes",
        "unfreezes",
        "grants",
        "probation",
        "grants_ending",
        "reminders",
    }
    assert all(step["seconds"] >= 0 for step in day.steps.values())
    assert day.seconds >= 0


def test_the_command_and_the_task_run_the_same_close(capsys):
    open_account(now=OPENED_AT)
    call_command("close_business_day", "--date", "2026-02-10")
    assert "Closed 2026-02-10" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("close_business_day", "--date", "10/02/2026")
    BusinessDay.objects.all().delete()
    assert close_business_day.run(business_date="2026-02-11") == ["2026-02-11"]


def test_beat_runs_the_close_at_half_past_midnight_shanghai_time():
    schedule = import_module("credit.servicing.migrations.0002_close_schedule")
    # The migration registered it; running its step again (as a database reused after a
    # transactional test's flush needs) finds the same task, not a second one.
    schedule.register(apps, None)
    task = PeriodicTask.objects.get(task="servicing.close_business_day")
    assert task.enabled
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("30", "0", "Asia/Shanghai")


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_of_the_same_day_take_effect_once():
    launch_fee_schedule()
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 14))
    entries = JournalEntry.objects.count()

    def run(_):
        try:
            return len(
                business_day_close(business_date=date(2026, 2, 15), now=shanghai(2026, 2, 15, 1))
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(run, range(3)))
    assert sorted(results) == [0, 0, 1]
    assert BusinessDay.objects.filter(business_date=date(2026, 2, 15)).count() == 1
    # One penalty entry for the one account, not three.
    assert JournalEntry.objects.count() == entries + 1


@pytest.mark.django_db(transaction=True)
def test_a_repayment_holding_its_account_when_the_close_starts_is_waited_for_not_deadlocked():
    launch_fee_schedule()
    account = open_account(now=OPENED_AT)
    buy(account, "1010.00", term=1, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 14))  # 4 days late, 0.51 of penalty
    holding, errors, close_backend, waits = threading.Event(), [], Queue(), []

    def close_waits_on_a_lock(pid: int) -> bool:
        """Whether the close's backend waits on a lock now. pg_stat_activity's list of
        backends is a snapshot taken once per transaction, so it is cleared before each look."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        return row is not None and row[0] == "Lock"

    def repay_while_the_close_waits():
        try:
            with transaction.atomic():
                locked = account_lock(account)
                holding.set()
                # Wait until the close blocks on this account's row lock, then touch the
                # installments the close is about to age: it must not hold them yet.
                pid = close_backend.get(timeout=10)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not close_waits_on_a_lock(pid):
                    time.sleep(0.05)
                waits.append(close_waits_on_a_lock(pid))
                repayment_apply(
                    account=locked,
                    amount=D("1010.51"),
                    idempotency_key="during-close",
                    now=shanghai(2026, 2, 15, 0, 30),
                )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def close_the_day():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                close_backend.put(cursor.fetchone()[0])
            holding.wait(10)
            business_day_close(business_date=date(2026, 2, 15), now=shanghai(2026, 2, 15, 0, 30))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=repay_while_the_close_waits),
        threading.Thread(target=close_the_day),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert waits == [True], "the close never waited for the repayment's account lock"
    first = installments(account)[0]
    # The close ran after the repayment committed: nothing left to age or to charge.
    assert (first.status, first.penalty) == (InstallmentStatus.PAID, D("0.51"))
    assert BusinessDay.objects.filter(business_date=date(2026, 2, 15)).exists()
    assert_ledger_holds()
