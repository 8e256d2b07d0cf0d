"""Every beat task delivered twice at once to a real worker takes effect once.

Beat (or a broker redelivering an unacknowledged message, or an operator clicking "run"
twice) can start the same periodic task twice. A worker with two pool processes receives
both deliveries of each task at the same moment; the effects are counted afterwards: one
business day with one penalty entry per late account, one rescoring run with one limit
change per account, each outbox row sent once, old idempotency keys purged once, and
`check_ledger` clean. The worker shares this test's database (conftest.WorkerProcess).
"""

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone
from django_fsm_log.models import StateLog

from config.celery import app
from conftest import WorkerProcess, shanghai
from credit.models import CreditAccount, IdempotencyRecord, JournalEntry, LimitChange
from credit.risk.models import RescoringRun
from credit.risk.tests.factories import active_policy, bands
from credit.servicing.models import BusinessDay
from notifications.models import Notification, NotificationStatus, SandboxSms
from testkit.credit import buy, launch_fee_schedule, open_account

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

D = Decimal
NO_QUIET_HOURS = {"NOTIFICATIONS_QUIET_START": "00:00", "NOTIFICATIONS_QUIET_END": "00:00"}
# The periodic tasks the data migrations register with django-celery-beat (core/beat.py).
BEAT_TASKS = (
    "servicing.close_business_day",
    "risk.rescore_nightly",
    "credit.idempotency_records_purge",
    "notifications.sweep",
    "risk.rules_run",
    "risk.verifications_expire",
    "credit.approvals_expire",
    "appeals.flag_sla_breaches",
)
LATE, FRESH = 3, 3


def deliver_twice(task: str) -> list:
    """Two deliveries of `task` at once; the return values of both (exceptions included)."""
    first, second = (app.send_task(task, ignore_result=False) for _ in range(2))
    return [result.get(timeout=90, propagate=False) for result in (first, second)]


def wait_for_outbox(timeout: float = 60) -> list[str]:
    """Until no outbox row waits to be sent (kicks and sweeps do it); the statuses left."""
    deadline = time.monotonic() + timeout
    waiting = (NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.FAILED)
    while time.monotonic() < deadline:
        left = list(
            Notification.objects.filter(status__in=waiting).values_list("status", flat=True)
        )
        if not left:
            return []
        app.send_task("notifications.sweep")
        time.sleep(1)
    return left


def test_each_beat_task_delivered_twice_at_once_takes_effect_once(celery_queue_purged):
    launch_fee_schedule()
    # Late: bought in January, nothing repaid, so every installment is long overdue today.
    late = [open_account("10000.00", email=f"late{n}@example.com") for n in range(LATE)]
    for account in late:
        buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    # Fresh: nothing owed; the rescoring policy raises them from 10 000 to 12 000.
    fresh = [open_account("10000.00", email=f"fresh{n}@example.com") for n in range(FRESH)]
    active_policy(score_bands=bands((300, "12000.00")))
    old = timezone.now() - timedelta(days=30)
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            scope="merchant:1", key=f"old-{n}", request_fingerprint="x", created_at=old
        )
        for n in range(5)
    )
    entries_before = Counter(JournalEntry.objects.values_list("kind", flat=True))

    worker = WorkerProcess(concurrency=2, extra_env=NO_QUIET_HOURS)
    try:
        worker.wait_ready()
        outcomes = {task: deliver_twice(task) for task in BEAT_TASKS}
        left = wait_for_outbox()
    finally:
        worker.stop()

    # Both deliveries of every task ended without an error (the second one doing nothing).
    errors = {t: r for t, r in outcomes.items() if any(isinstance(x, BaseException) for x in r)}
    assert errors == {}, errors

    # The close: one business day; one penalty entry and one freeze per late account.
    today = timezone.localdate()
    assert list(BusinessDay.objects.values_list("business_date", flat=True)) == [today]
    assert sorted(outcomes["servicing.close_business_day"], key=len) == [[], [today.isoformat()]]
    new_entries = Counter(JournalEntry.objects.values_list("kind", flat=True)) - entries_before
    assert new_entries == Counter({"PENALTY": LATE})
    account_logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(CreditAccount)
    )
    assert Counter(account_logs.values_list("object_id", "transition")) == Counter(
        {(a.pk, "freeze"): 1 for a in late}
    )
    assert Counter(CreditAccount.objects.values_list("status", flat=True)) == {
        "FROZEN": LATE,
        "ACTIVE": FRESH,
    }

    # The rescoring: one run, applied; one RESCORE limit change per fresh account.
    assert list(RescoringRun.objects.values_list("status", flat=True)) == ["APPLIED"]
    raised = Counter(
        LimitChange.objects.filter(kind="RESCORE").values_list("account_id", flat=True)
    )
    assert raised == Counter({a.pk: 1 for a in fresh})
    assert {a.base_limit for a in CreditAccount.objects.filter(pk__in=[a.pk for a in fresh])} == {
        D("12000.00")
    }

    # The purge: every old key forgotten, counted once between the two deliveries.
    assert sum(outcomes["credit.idempotency_records_purge"]) == 5
    assert not IdempotencyRecord.objects.exists()

    # The outbox: every notice of the close and the run sent, none twice.
    assert left == []
    assert Notification.objects.filter(status=NotificationStatus.SENT).exists()
    assert not SandboxSms.objects.filter(calls__gt=1).exists()
    assert (
        SandboxSms.objects.count()
        == Notification.objects.filter(channel="SMS", status=NotificationStatus.SENT).count()
    )

    call_command("check_ledger")
