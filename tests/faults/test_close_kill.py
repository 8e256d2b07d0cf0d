"""A business-day close SIGKILLed half way through a catch-up closes each day once.

A real `manage.py close_business_day` catches up many missed days on accounts that are late
(every day posts a penalty entry per account); it is killed once a few days have committed,
in the middle of the next one, then run again. Each day commits with its BusinessDay row, so
the killed day left nothing behind, the rerun carries on from the last committed day, and no
day's penalty is posted twice. The process shares this test's database (conftest).
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command

from conftest import shanghai, subprocess_env
from credit.models import JournalEntry
from credit.servicing.models import BusinessDay
from credit.servicing.tests.helpers import OPENED_AT, close
from testkit.credit import buy, launch_fee_schedule, open_account

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 20
FIRST = date(2026, 2, 10)  # closed before the run, on time
LAST = date(2026, 3, 31)  # the command catches up every day after FIRST up to LAST
KILL_AFTER_DAYS = 4


def penalties() -> Counter:
    return Counter(JournalEntry.objects.filter(kind="PENALTY").values_list("account", "reference"))


def closed_days() -> list[date]:
    return list(
        BusinessDay.objects.order_by("business_date").values_list("business_date", flat=True)
    )


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_close_killed_mid_catch_up_resumes_and_closes_each_day_once():
    launch_fee_schedule()
    accounts = [open_account(now=OPENED_AT) for _ in range(ACCOUNTS)]
    for account in accounts:
        buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close(FIRST)
    command = [sys.executable, "manage.py", "close_business_day", "--date", LAST.isoformat()]

    process = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(closed_days()) < 1 + KILL_AFTER_DAYS:
            assert process.poll() is None, "the close ended before it was killed"
            assert time.monotonic() < deadline, "the close never got going"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # Killed half way: whole days committed, in order, and nothing of the day it was in.
    killed_at = closed_days()
    assert killed_at == every_day(FIRST, killed_at[-1]) and killed_at[-1] < LAST
    assert {reference for _account, reference in penalties()} <= {
        f"penalty:{day.isoformat()}" for day in killed_at
    }

    rerun = subprocess.run(
        command,
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"Closed {killed_at[-1] + timedelta(days=1)}" in rerun.stdout
    assert closed_days() == every_day(FIRST, LAST)
    posted = penalties()
    assert set(posted.values()) == {1}, "a day's penalty was posted twice"
    assert {reference for _account, reference in posted} >= {
        f"penalty:{day.isoformat()}" for day in every_day(killed_at[-1], LAST)
    }
    call_command("check_ledger")
    print(f"\nkilled after {len(killed_at) - 1} of {len(every_day(FIRST, LAST)) - 1} days")
