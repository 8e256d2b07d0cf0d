"""The worker against a broker outage and a crash, with a real Redis and a real worker.

- Redis stopped for 30 s while purchases are authorised (and the worker has tasks in hand),
  then started again: the worker and beat stay up, and every outbox row is sent exactly once
  within 60 s of Redis' return, with no human restart; the ledger holds.
- A worker SIGKILLed in the middle of an email batch: no email goes out twice (counted by
  Message-ID in the mail files the worker writes), none is lost.

Emails go to Django's file backend (readable from this process); SMS to the sandbox table.
Beat is real (django-celery-beat, the sweeper every minute as in production); the worker's
catch-up sweep on reconnection (notifications/worker_steps.py) is what makes the rows go out
within seconds of Redis' return.
"""

import email
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from django.apps import apps as django_apps
from django.db import connections
from django_celery_beat.models import PeriodicTask

from accounts.tasks import ping
from core.beat import periodic_task_register
from notifications.models import Channel, Notification, NotificationStatus, SandboxSms
from notifications.providers.email import message_id_for
from notifications.tasks import dispatch, sweep
from testkit.credit import assert_ledger_holds, buy, open_account
from testkit.private_redis import (
    celery_app_on,
    private_redis,
    running_beat,
    running_worker,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 30
SENT_WITHIN_SECONDS = 60


def mail_by_message_id(folder: Path) -> Counter:
    """How many times each Message-ID was handed to the mail server (the file backend)."""
    counts = Counter()
    for path in folder.glob("*.log"):
        # The file backend writes every message of a connection into one file, separated by
        # a line of dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                counts[email.message_from_string(chunk.strip())["Message-ID"]] += 1
    return counts


def sweeper_every_minute():
    """The sweeper's schedule as migration 0002 writes it (a transactional test's flush may
    have removed it), and nothing else for beat to run."""
    periodic_task_register(
        django_apps,
        name="notifications: sweep the outbox",
        task="notifications.sweep",
        every_minutes=1,
        description="fault test",
    )
    PeriodicTask.objects.exclude(task="notifications.sweep").update(enabled=False)


def _outbox_statuses(*channels):
    return Counter(
        Notification.objects.filter(channel__in=channels).values_list("status", flat=True)
    )


def test_the_worker_survives_a_broker_outage_under_load_and_sends_every_notice_once(
    tmp_path, settings
):
    settings.NOTIFICATIONS_QUIET_HOURS = ("00:00", "00:00")
    mail = tmp_path / "mail"
    accounts = [open_account(email=f"c{n}@example.com") for n in range(12)]
    worker_env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail),
        # Each message takes a while, so tasks are in the worker's hands when Redis goes.
        "NOTIFICATIONS_SANDBOX_DELAY_SECONDS": "0.5",
        "NOTIFICATIONS_BATCH_SIZE": "5",
    }
    sweeper_every_minute()
    with (
        private_redis() as redis,
        celery_app_on(redis.url),
        running_worker(redis, concurrency=2, **worker_env) as worker,
        running_beat(redis) as beat,
    ):
        for account in accounts[:6]:  # kicked on commit: the worker is busy with them
            buy(account, "300.00")
        time.sleep(1)
        redis.stop()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        for n, account in enumerate(accounts):  # purchases go on while Redis is away
            buy(account, f"{100 + n}.00")
            time.sleep(1)
        time.sleep(max(outage_ends - time.monotonic(), 0))
        redis.start()
        back = time.monotonic()

        def all_sent():
            statuses = _outbox_statuses(Channel.SMS, Channel.EMAIL)
            return set(statuses) == {NotificationStatus.SENT}

        wait_until(
            all_sent,
            timeout=SENT_WITHIN_SECONDS,
            interval=1,
            what=f"every notice sent (worker log: {worker.log_path}, beat: {beat.log_path})",
        )
        took = time.monotonic() - back
        # Still the same worker and beat: they reconnected instead of dying; the worker
        # swept the outbox as soon as it was back on the broker.
        assert worker.process.poll() is None, worker.log_path.read_text()[-3000:]
        assert beat.process.poll() is None, beat.log_path.read_text()[-3000:]
        assert ping.apply_async(kwargs={"payload": "up"}).get(timeout=30) == "up"
        assert "catch-up sweep of the outbox sent" in worker.log_path.read_text()
    connections.close_all()

    rows = Notification.objects.exclude(channel=Channel.IN_APP)
    assert rows.count() == 2 * 18  # 18 purchases, each an SMS and an email
    sms = {s.idempotency_key: s for s in SandboxSms.objects.all()}
    assert {str(r.pk) for r in rows if r.channel == Channel.SMS} == set(sms)
    assert all(s.calls == 1 for s in sms.values())
    emails = mail_by_message_id(mail)
    assert emails == Counter(
        {message_id_for(str(r.pk)): 1 for r in rows if r.channel == Channel.EMAIL}
    )
    assert_ledger_holds()
    print(f"all sent {took:.1f}s after Redis returned")


def test_a_worker_killed_mid_email_batch_sends_no_email_twice_and_loses_none(tmp_path, settings):
    settings.NOTIFICATIONS_QUIET_HOURS = ("00:00", "00:00")
    mail = tmp_path / "mail"
    accounts = [open_account(email=f"c{n}@example.com") for n in range(8)]
    worker_env = {
        "EMAIL_BACKEND": "notifications.tests.providers.SlowFileEmailBackend",
        "EMAIL_FILE_PATH": str(mail),
        "NOTIFICATIONS_BATCH_SIZE": "10",
        "NOTIFICATIONS_LEASE_SECONDS": "4",
    }
    with private_redis() as redis, celery_app_on(redis.url):
        with running_worker(redis, **worker_env) as first:
            for account in accounts:
                for amount in ("100.00", "200.00"):
                    buy(account, amount)  # 16 emails (and 16 SMS)

            # Kill the worker when some emails of a batch are out and others are not.
            def halfway():
                sent = sum(mail_by_message_id(mail).values())
                return 3 <= sent < 16

            wait_until(halfway, timeout=60, interval=0.05, what="a batch half sent")
            victim = psutil.Process(first.process.pid)
            for process in [victim, *victim.children(recursive=True)]:
                process.kill()
            first.process.wait(timeout=10)
        sent_at_kill = sum(mail_by_message_id(mail).values())
        assert sent_at_kill < 16

        with running_worker(redis, **worker_env):

            def all_sent():
                sweep.apply_async()
                statuses = _outbox_statuses(Channel.SMS, Channel.EMAIL)
                return set(statuses) == {NotificationStatus.SENT}

            wait_until(all_sent, timeout=90, interval=2, what="every notice to be sent")
            # A stray kick of everything changes nothing.
            dispatch.apply_async(
                kwargs={"ids": list(Notification.objects.values_list("pk", flat=True))}
            )
            time.sleep(2)

    emails = mail_by_message_id(mail)
    expected = {
        message_id_for(str(pk))
        for pk in Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True)
    }
    assert len(expected) == 16
    assert set(emails) == expected  # none lost
    assert max(emails.values()) == 1, emails  # none twice
