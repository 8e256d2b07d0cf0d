"""Notification faults against a real Redis and a real Celery worker.

Each test runs its own throw-away `redis-server` on a free port (testkit.private_redis; the
machine's Redis on 6379 is never touched), points the worker and this process's Celery app at it, and breaks things:
stops that Redis while events are published, or SIGKILLs a worker in the middle of a batch.
Quiet hours are switched off so the tests mean the same at any hour.
"""

import time

import psutil
import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tasks import ping
from accounts.tests.factories import UserFactory
from core.events import EventType, publish
from notifications.catalogue import POLICIES
from notifications.models import Channel, Notification, NotificationStatus, SandboxSms
from notifications.services import enqueue
from notifications.tasks import dispatch, sweep
from testkit.private_redis import celery_app_on, private_redis, running_worker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server():
    with private_redis() as server:
        yield server


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
    # Each message is recorded as soon as it is sent, so at most the one message under way
    # when the worker died is offered to the provider again; it refused to send it twice
    # (same key, same message id). Everything else was called exactly once.
    called_again = {pk for pk, sms in sandbox.items() if sms.calls > 1}
    assert len(called_again) <= 1
    assert called_again <= in_flight
    assert max(sms.calls for sms in sandbox.values()) <= 2
    assert all(rows[pk].attempts == 2 for pk in in_flight)
