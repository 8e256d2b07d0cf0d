"""Notification faults against a real Redis and a real Celery worker.

Each test runs its own throw-away `redis-server` on a free port (the machine's Redis on 6379
is never touched), points the worker and this process's Celery app at it, and breaks things:
stops that Redis while events are published, or SIGKILLs a worker in the middle of a batch.
Quiet hours are switched off so the tests mean the same at any hour.
"""

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from unittest import mock

import psutil
import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tasks import ping
from accounts.tests.factories import UserFactory
from config.celery import app
from conftest import WorkerProcess
from core.events import EventType, publish
from notifications.catalogue import POLICIES
from notifications.models import Channel, Notification, NotificationStatus, SandboxSms
from notifications.services import enqueue
from notifications.tasks import dispatch, sweep

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NO_QUIET_HOURS = {"NOTIFICATIONS_QUIET_START": "00:00", "NOTIFICATIONS_QUIET_END": "00:00"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server without persistence that a test may stop and start again."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, what="redis-server to answer")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not self._answers()

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def celery_app_on(broker_url: str):
    """This process's Celery app publishes to `broker_url` for the duration (Celery reads
    CELERY_BROKER_URL from the environment before its configuration, so both change)."""

    def point(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    with mock.patch.dict(os.environ, {"CELERY_BROKER_URL": broker_url}):
        point(broker_url)
        enqueue._broker_paused_until = 0.0
        try:
            yield app
        finally:
            point(previous)
            enqueue._broker_paused_until = 0.0


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_worker(redis: RedisServer, **env):
    worker = WorkerProcess(extra_env={"CELERY_BROKER_URL": redis.url, **NO_QUIET_HOURS, **env})
    try:
        worker.wait_ready(timeout=120)  # a busy two-core machine starts a worker slowly
        yield worker
    finally:
        worker.stop()


def _sms_statuses():
    return set(Notification.objects.filter(channel=Channel.SMS).values_list("status", flat=True))


def _publish_repayments(users, now):
    for n, user in enumerate(users):
        with transaction.atomic():  # a repayment's transaction, publishing its notice
            publish(
                event=EventType.REPAYMENT_RECEIVED,
                user=user,
                context=POLICIES[EventType.REPAYMENT_RECEIVED].sample,
                dedupe_key=f"repayment:{n}",
                now=now,
            )


def test_notices_published_while_redis_is_down_wait_and_are_sent_exactly_once_when_it_is_back(
    redis_server, settings
):
    settings.NOTIFICATIONS_QUIET_HOURS = ("00:00", "00:00")
    users = [UserFactory(email="") for _n in range(6)]

    with celery_app_on(redis_server.url), running_worker(redis_server) as worker:
        redis_server.stop()

        started = time.monotonic()
        _publish_repayments(users, timezone.now())
        publishing_took = time.monotonic() - started

        # Publishing neither raised nor hung: one failed attempt at the broker, then the
        # publishers stop trying for a while. Every notice is written and waits.
        assert publishing_took < 30
        assert enqueue._broker_paused_until > time.monotonic()
        assert Notification.objects.filter(channel=Channel.SMS).count() == 6
        assert Notification.objects.filter(channel=Channel.IN_APP).count() == 6
        time.sleep(1)
        assert _sms_statuses() == {NotificationStatus.PENDING}
        assert not SandboxSms.objects.exists()

        redis_server.start()
        # The minute's sweep (django-celery-beat in production) finds the waiting rows.
        sweep.apply_async(retry=True, retry_policy={"max_retries": 20, "interval_start": 0.5})
        wait_until(
            lambda: _sms_statuses() == {NotificationStatus.SENT},
            timeout=90,
            what=f"the waiting SMS to be sent (worker log: {worker.log_path})",
        )

        # Replays change nothing: the same events again, a second sweep, a stray kick.
        _publish_repayments(users, timezone.now())
        sweep.apply_async()
        dispatch.apply_async(
            kwargs={"ids": list(Notification.objects.values_list("pk", flat=True))}
        )
        assert ping.apply_async(kwargs={"payload": "done"}).get(timeout=30) == "done"

    sms = Notification.objects.filter(channel=Channel.SMS)
    sandbox = {s.idempotency_key: s for s in SandboxSms.objects.all()}
    assert sms.count() == len(sandbox) == 6
    for row in sms:
        assert sandbox[str(row.pk)].message_id == row.provider_message_id
        assert sandbox[str(row.pk)].calls == 1
        assert row.attempts == 1


def test_a_worker_killed_mid_batch_loses_nothing_and_no_notice_is_sent_twice(redis_server):
    now = timezone.now()
    users = [UserFactory(email="") for _n in range(30)]
    for n, user in enumerate(users):
        Notification.objects.create(
            event=EventType.REPAYMENT_RECEIVED,
            user=user,
            channel=Channel.SMS,
            template_key="repayment_received",
            context=POLICIES[EventType.REPAYMENT_RECEIVED].sample,
            dedupe_key=f"repayment:{n}",
            next_attempt_at=now,
            created_at=now,
        )
    slow = {
        "NOTIFICATIONS_SANDBOX_DELAY_SECONDS": "0.3",
        "NOTIFICATIONS_BATCH_SIZE": "10",
        "NOTIFICATIONS_LEASE_SECONDS": "4",
    }

    with celery_app_on(redis_server.url):
        with running_worker(redis_server, **slow) as first:
            for _batch in range(3):
                dispatch.apply_async(kwargs={})
            # The first batch is done and the second is under way: kill it there.
            wait_until(lambda: SandboxSms.objects.count() >= 13, timeout=60, what="batch two")
            victim = psutil.Process(first.process.pid)
            for process in [victim, *victim.children(recursive=True)]:
                process.kill()
            first.process.wait(timeout=10)

        at_kill = dict(Notification.objects.values_list("pk", "status"))
        in_flight = {pk for pk, status in at_kill.items() if status == NotificationStatus.SENDING}
        sent_at_kill = SandboxSms.objects.count()
        assert 0 < len(in_flight) <= 10
        assert sent_at_kill < 30

        with running_worker(redis_server, **slow):
            # Once the dead worker's lease runs out, the sweeper hands its rows to this one.
            def all_sent():
                sweep.apply_async()
                return _sms_statuses() == {NotificationStatus.SENT}

            wait_until(all_sent, timeout=90, interval=2, what="every notice to be sent")

    rows = {row.pk: row for row in Notification.objects.all()}
    sandbox = {int(s.idempotency_key): s for s in SandboxSms.objects.all()}
    # Nothing lost: every notice went out, as exactly one message, the one on record.
    assert set(sandbox) == set(rows)
    assert all(rows[pk].provider_message_id == sandbox[pk].message_id for pk in rows)
    # Only the killed batch was offered to the provider again; it refused to send those
    # twice (same key, same message id). Everything else was called exactly once.
    called_again = {pk for pk, sms in sandbox.items() if sms.calls > 1}
    assert called_again and called_again <= in_flight
    assert max(sms.calls for sms in sandbox.values()) == 2
    assert all(rows[pk].attempts == 2 for pk in in_flight)
