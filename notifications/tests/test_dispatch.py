"""Dispatch: claim, send through the provider with the row id as idempotency key, record."""

import importlib
import threading
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask

from accounts.models import Language
from accounts.tests.factories import UserFactory
from core.events import EventType
from notifications.models import Channel, Notification, NotificationStatus, SandboxSms
from notifications.providers.email import message_id_for
from notifications.services import dispatch as dispatch_module
from notifications.services import notifications_dispatch, notifications_due_batches
from notifications.tests.factories import NOW, NotificationFactory, SandboxSmsFactory
from notifications.tests.providers import BrokenSmsProvider, WorkerDied

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_sms(settings):
    settings.NOTIFICATIONS_SMS_PROVIDER = "notifications.tests.providers.BrokenSmsProvider"
    BrokenSmsProvider.calls = []
    return BrokenSmsProvider


def test_a_due_sms_is_sent_through_the_sandbox_with_the_row_id_as_idempotency_key():
    row = NotificationFactory(user=UserFactory(phone="+8613911112222"))

    report = notifications_dispatch(now=NOW)

    row.refresh_from_db()
    sms = SandboxSms.objects.get()
    assert (report.sent, row.status, row.attempts) == (1, NotificationStatus.SENT, 1)
    assert (row.sent_at, row.next_attempt_at) == (NOW, None)
    assert sms.idempotency_key == str(row.pk)
    assert row.provider_message_id == sms.message_id
    assert sms.phone == "+8613911112222"
    assert sms.text.startswith("【信用付】已收到您的还款¥407.20")
    assert (sms.calls, sms.segments) == (1, 1)


def test_an_sms_goes_out_in_the_recipients_preferred_language():
    row = NotificationFactory(user=UserFactory(preferred_language=Language.EN))

    notifications_dispatch(now=NOW)

    assert SandboxSms.objects.get(idempotency_key=str(row.pk)).text.startswith(
        "[Credit line] We received your repayment of ¥407.20."
    )


def test_email_goes_through_the_django_email_backend_with_the_key_as_message_id():
    user = UserFactory(email="li@example.com", preferred_language=Language.EN)
    row = NotificationFactory(user=user, channel=Channel.EMAIL, event=EventType.LIMIT_CUT)

    notifications_dispatch(now=NOW)

    row.refresh_from_db()
    [message] = mail.outbox
    assert message.to == ["li@example.com"]
    assert message.subject == "Your limit is now ¥5,000.00"
    assert "Why: Recent repayments were late; You are using most of your limit." in message.body
    assert message.extra_headers["Message-ID"] == row.provider_message_id
    assert row.provider_message_id == f"<notification-{row.pk}@creditline.example>"
    assert row.status == NotificationStatus.SENT


def test_each_email_is_recorded_as_soon_as_it_is_sent_so_a_crash_mid_batch_resends_none(
    settings,
):
    settings.EMAIL_BACKEND = "notifications.tests.providers.DyingEmailBackend"
    rows = [
        NotificationFactory(
            channel=Channel.EMAIL,
            event=EventType.LIMIT_CUT,
            user=UserFactory(email=f"c{n}@example.com"),
        )
        for n in range(5)
    ]

    with pytest.raises(WorkerDied):  # the worker dies after the second email went out
        notifications_dispatch(now=NOW)

    statuses = dict(Notification.objects.values_list("pk", "status"))
    sent = [r.pk for r in rows if statuses[r.pk] == NotificationStatus.SENT]
    # The two emails that left are on record; the rest wait for the lease to run out.
    assert [message.extra_headers["Message-ID"] for message in mail.outbox] == [
        message_id_for(str(pk)) for pk in sent
    ]
    assert len(sent) == 2
    assert {statuses[r.pk] for r in rows if r.pk not in sent} == {NotificationStatus.SENDING}

    # The next worker, after the lease: sends the other three, none of the two again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = NOW + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1)
    assert notifications_dispatch(now=later).sent == 3
    message_ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
    assert sorted(message_ids) == sorted(message_id_for(str(r.pk)) for r in rows)


def test_rows_not_yet_due_and_in_app_rows_are_not_claimed():
    later = NotificationFactory(next_attempt_at=NOW + timedelta(minutes=1))
    in_app = NotificationFactory(channel=Channel.IN_APP, status=NotificationStatus.SENT)

    report = notifications_dispatch(now=NOW)

    assert report.claimed_ids == []
    later.refresh_from_db()
    assert later.status == NotificationStatus.PENDING and later.attempts == 0
    assert Notification.objects.get(pk=in_app.pk).attempts == 0


def test_a_kick_with_ids_sends_only_those_rows():
    wanted, other = NotificationFactory(), NotificationFactory()

    notifications_dispatch(now=NOW, ids=[wanted.pk])

    assert Notification.objects.get(pk=wanted.pk).status == NotificationStatus.SENT
    assert Notification.objects.get(pk=other.pk).status == NotificationStatus.PENDING


def test_one_call_sends_at_most_one_batch_oldest_first():
    rows = [NotificationFactory(next_attempt_at=NOW - timedelta(minutes=m)) for m in range(5)]

    report = notifications_dispatch(now=NOW, batch_size=3)

    assert sorted(report.claimed_ids) == sorted(r.pk for r in rows[2:])
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 3


def test_a_failed_send_is_retried_with_exponential_backoff(broken_sms):
    row = NotificationFactory(channel=Channel.SMS)
    delays = []
    now = NOW
    for _attempt in range(3):
        notifications_dispatch(now=now)
        row.refresh_from_db()
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert (row.status, row.attempts) == (NotificationStatus.FAILED, 3)
    assert row.last_error == "gateway timed out"
    assert broken_sms.calls == [str(row.pk)] * 3


def test_a_notification_goes_dead_after_six_attempts(broken_sms):
    row = NotificationFactory()
    now = NOW
    for _attempt in range(6):
        notifications_dispatch(now=now)
        row.refresh_from_db()
        now = row.next_attempt_at or now

    assert (row.status, row.attempts, row.next_attempt_at) == (NotificationStatus.DEAD, 6, None)
    assert notifications_dispatch(now=now + timedelta(days=1)).claimed_ids == []
    assert len(broken_sms.calls) == 6


def test_a_permanent_refusal_goes_dead_at_once(settings):
    settings.NOTIFICATIONS_SMS_PROVIDER = "notifications.tests.providers.RefusingSmsProvider"
    row = NotificationFactory()

    report = notifications_dispatch(now=NOW)

    row.refresh_from_db()
    assert (report.dead, row.status, row.attempts) == (1, NotificationStatus.DEAD, 1)


def test_a_row_whose_template_is_missing_goes_dead_with_the_reason():
    row = NotificationFactory(template_key="no_such_notice")

    notifications_dispatch(now=NOW)

    row.refresh_from_db()
    assert row.status == NotificationStatus.DEAD
    assert "notifications/sms/no_such_notice.zh-hans.txt" in row.last_error
    assert not SandboxSms.objects.exists()


def test_an_email_row_whose_recipient_removed_the_address_goes_dead():
    row = NotificationFactory(channel=Channel.EMAIL, user=UserFactory(email=""))

    notifications_dispatch(now=NOW)

    row.refresh_from_db()
    assert (row.status, row.last_error) == (
        NotificationStatus.DEAD,
        "recipient has no email address",
    )


def test_a_claimed_row_is_leased_until_its_lease_runs_out(settings, monkeypatch):
    settings.NOTIFICATIONS_LEASE_SECONDS = 300
    row = NotificationFactory()
    # The worker dies after the claim: nothing is sent, nothing recorded.
    monkeypatch.setattr(dispatch_module, "_send", lambda rows: [])

    notifications_dispatch(now=NOW)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENDING, 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=300)
    assert notifications_dispatch(now=NOW + timedelta(seconds=299)).claimed_ids == []


def test_a_sending_row_whose_lease_expired_is_reclaimed_and_the_provider_sends_it_once():
    row = NotificationFactory(status=NotificationStatus.SENDING, attempts=1)
    # The dead worker's call had reached the sandbox before it died.
    first = SandboxSmsFactory(idempotency_key=str(row.pk), message_id="sbx-first")

    report = notifications_dispatch(now=NOW)

    row.refresh_from_db()
    first.refresh_from_db()
    assert report.sent == 1
    assert (row.status, row.attempts, row.provider_message_id) == ("SENT", 2, "sbx-first")
    assert SandboxSms.objects.count() == 1
    assert first.calls == 2  # called again, sent once


def test_a_late_result_from_an_expired_lease_does_not_overwrite_the_newer_claim():
    row = NotificationFactory()
    report = dispatch_module.DispatchReport()
    stale_claim = dispatch_module._claim(now=NOW, ids=None, limit=10, report=report)
    later = NOW + timedelta(hours=1)  # the lease ran out; another worker claims again
    fresh_claim = dispatch_module._claim(now=later, ids=None, limit=10, report=report)

    [stale_outcomes] = dispatch_module._send(stale_claim)  # the sandbox's bulk API: one step
    dispatch_module._record(stale_outcomes, now=NOW, report=report)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENDING, 2)
    [fresh_outcomes] = dispatch_module._send(fresh_claim)
    dispatch_module._record(fresh_outcomes, now=later, report=report)
    row.refresh_from_db()
    assert (row.status, row.sent_at) == (NotificationStatus.SENT, later)
    assert SandboxSms.objects.get().calls == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_skip_the_rows_another_one_has_locked():
    locked, free = NotificationFactory(), NotificationFactory()
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                list(Notification.objects.select_for_update().filter(pk=locked.pk))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(10)
        report = notifications_dispatch(now=NOW)
    finally:
        release.set()
        thread.join()

    assert report.claimed_ids == [free.pk]
    assert Notification.objects.get(pk=locked.pk).status == NotificationStatus.PENDING


def test_the_sweeper_fans_out_one_dispatch_per_batch_of_due_rows(settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    for _row in range(5):
        NotificationFactory()
    NotificationFactory(next_attempt_at=NOW + timedelta(hours=1))

    assert notifications_due_batches(now=NOW) == 3
    assert notifications_due_batches(now=NOW, max_batches=2) == 2


def test_the_sweeper_is_registered_with_celery_beat_every_minute():
    # Run the data migration's function again: a test that flushed the database may have
    # removed what `migrate` wrote, and running it twice must leave one task.
    migration = importlib.import_module("notifications.migrations.0002_sweeper_schedule")
    migration.register(django_apps, None)
    migration.register(django_apps, None)

    task = PeriodicTask.objects.get(task="notifications.sweep")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "minutes")
    assert PeriodicTask.objects.filter(task__startswith="notifications.").count() == 1
