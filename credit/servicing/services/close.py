"""The daily business-day close: `business_day_close(business_date=D, now=...)`.

`manage.py close_business_day` and the beat task (00:30 Asia/Shanghai) both call it. It
closes every date after the last closed one up to D, in order, each in its own transaction
that ends by writing the date's BusinessDay row: a day is closed completely or not at all,
a crash in a catch-up keeps the days before it, and closing a date again finds its row and
changes nothing. A transaction-scoped advisory lock serialises concurrent closes.

Steps of one day, each one set-based statement (or a few) over all rows:
  lock        the accounts the day touches, in id order (no deadlock with online services)
  penalties   daily penalty after the grace days, capped; one PENALTY journal entry per account
  overdue     open installments due before D → OVERDUE with D − due_date days past due, and
              the day's penalty, in one UPDATE (each installment written once)
  delinquency per-account days past due, overdue amount and bucket; history on change
  freezes     ≥ SERVICING_FREEZE_DAYS_PAST_DUE days past due → FROZEN (reason OVERDUE)
  unfreezes   nothing overdue → OVERDUE reason lifted; only reason → RESTORED or NEGATIVE
  grants      ended grants expire, started ones apply; status follows available
  probation   restored accounts capped, the whole limit after 30 clean days, ACTIVE after 90
  grants_ending  notices for grants ending in 3 days
  reminders   the due / overdue reminders for D (credit.servicing.services.reminders)
"""

import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from credit.servicing.errors import BusinessDateInFuture, CloseOutOfOrder
from credit.servicing.models import BusinessDay
from credit.servicing.services.context import CloseContext
from credit.servicing.services.delinquency import (
    accounts_lock,
    delinquency_update,
    installments_age,
)
from credit.servicing.services.grants import grants_ending_notice, grants_expire_and_start
from credit.servicing.services.reminders import reminders_generate
from credit.servicing.services.statuses import overdue_cure, overdue_freeze, probation_step

# pg_advisory_xact_lock key of the close ("SERVDAY" in ASCII).
CLOSE_LOCK_KEY = 0x53455256444159

STEPS = (
    accounts_lock,
    installments_age,
    delinquency_update,
    overdue_freeze,
    overdue_cure,
    grants_expire_and_start,
    probation_step,
    grants_ending_notice,
)


def business_day_last_closed() -> date | None:
    return BusinessDay.objects.aggregate(last=Max("business_date"))["last"]


def business_day_close(*, business_date: date, now: datetime) -> list[BusinessDay]:
    """Close `business_date`, first every missed date before it; returns the days closed.

    Not one transaction on purpose: each date commits on its own (see the module doc).
    Nothing closed yet: only `business_date` is closed, there is no history to catch up.
    """
    if business_date > timezone.localdate(now):
        raise BusinessDateInFuture()
    last = business_day_last_closed()
    if last is not None and business_date <= last:
        return []
    day = business_date if last is None else last + timedelta(days=1)
    closed = []
    while day <= business_date:
        result = business_day_close_one(business_date=day, now=now, catch_up=day < business_date)
        if result is not None:
            closed.append(result)
        day += timedelta(days=1)
    return closed


@transaction.atomic
def business_day_close_one(
    *, business_date: date, now: datetime, catch_up: bool = False
) -> BusinessDay | None:
    """Close one date whose previous date is closed; None when it already was."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLOSE_LOCK_KEY])
    last = business_day_last_closed()
    if last is not None and business_date <= last:
        return None  # closed meanwhile by a concurrent close (or before the first close)
    if last is not None and last != business_date - timedelta(days=1):
        raise CloseOutOfOrder()
    started = time.perf_counter()
    ctx = CloseContext(business_date=business_date, now=now)
    for step in STEPS:
        step(ctx)
    with ctx.step("reminders") as step:
        step.rows = reminders_generate(business_date=business_date, now=now)
    seconds = time.perf_counter() - started
    return BusinessDay.objects.create(
        business_date=business_date,
        started_at=now,
        finished_at=now + timedelta(seconds=seconds),
        catch_up=catch_up,
        steps={name: step.as_dict() for name, step in ctx.steps.items()},
        seconds=Decimal(f"{seconds:.3f}"),
    )
