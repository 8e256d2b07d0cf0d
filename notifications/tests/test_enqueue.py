"""Publishing an event writes the outbox rows in the publisher's transaction."""

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from config.celery import app
from conftest import shanghai
from core.events import EventType, Notice, publish, publish_many
from notifications.catalogue import POLICIES
from notifications.models import Channel, Notification, NotificationStatus
from notifications.services import enqueue, notifications_enqueue
from notifications.tests.factories import NOW, NotificationPreferenceFactory

pytestmark = pytest.mark.django_db
DEAD_BROKER = "redis://127.0.0.1:1/0"


def _publish(user, *, event=EventType.REPAYMENT_RECEIVED, key="repayment:1", now=NOW):
    publish(event=event, user=user, context=dict(POLICIES[event].sample), dedupe_key=key, now=now)


def _rows(user):
    return {n.channel: n for n in Notification.objects.filter(user=user)}


def test_publishing_an_event_writes_one_row_per_channel():
    user = UserFactory(email="li@example.com")

    _publish(user)

    rows = _rows(user)
    assert set(rows) == {Channel.SMS, Channel.EMAIL, Channel.IN_APP}
    sms, email, in_app = rows[Channel.SMS], rows[Channel.EMAIL], rows[Channel.IN_APP]
    assert (sms.status, sms.next_attempt_at, sms.attempts) == (NotificationStatus.PENDING, NOW, 0)
    assert (email.status, email.next_attempt_at) == (NotificationStatus.PENDING, NOW)
    # The inbox copy is delivered by being written.
    assert (in_app.status, in_app.sent_at, in_app.read_at) == (NotificationStatus.SENT, NOW, None)
    assert {r.dedupe_key for r in rows.values()} == {"repayment:1"}
    assert {r.template_key for r in rows.values()} == {"repayment_received"}
    assert sms.context == POLICIES[EventType.REPAYMENT_RECEIVED].sample
    assert sms.event == EventType.REPAYMENT_RECEIVED and sms.created_at == NOW


def test_a_rolled_back_transaction_leaves_no_notification():
    user = UserFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        _publish(user)
        assert Notification.objects.filter(user=user).count() == 2
        raise RuntimeError("the purchase failed after publishing")

    assert not Notification.objects.filter(user=user).exists()


def test_publishing_the_same_dedupe_key_again_inserts_nothing():
    user = UserFactory(email="li@example.com")
    _publish(user)
    first = sorted(Notification.objects.values_list("pk", flat=True))

    _publish(user)
    replayed = notifications_enqueue(
        notices=[Notice(EventType.REPAYMENT_RECEIVED, user, {}, "repayment:1")], now=NOW
    )

    assert replayed == []
    assert sorted(Notification.objects.values_list("pk", flat=True)) == first


def test_the_same_dedupe_key_on_another_event_type_is_still_one_notice_per_channel():
    user = UserFactory()
    _publish(user, key="shared")

    _publish(user, event=EventType.REFUND_RECEIVED, key="shared")

    assert Notification.objects.filter(user=user).count() == 2
    assert set(Notification.objects.values_list("event", flat=True)) == {"REPAYMENT_RECEIVED"}


def test_a_customer_without_email_gets_no_email_row():
    user = UserFactory(email="")

    _publish(user)

    assert set(_rows(user)) == {Channel.SMS, Channel.IN_APP}


def test_marketing_respects_the_opt_out():
    opted_out = NotificationPreferenceFactory(marketing_opt_out=True).user
    opted_in = UserFactory()

    _publish(opted_out, event=EventType.MARKETING, key="campaign:618")
    _publish(opted_in, event=EventType.MARKETING, key="campaign:618")

    assert not Notification.objects.filter(user=opted_out).exists()
    assert set(_rows(opted_in)) == {Channel.SMS, Channel.IN_APP}


def test_legally_required_notices_reach_a_customer_who_opted_out_of_marketing():
    user = NotificationPreferenceFactory(marketing_opt_out=True).user

    for key, event in enumerate(
        [EventType.DUE_TODAY, EventType.LIMIT_CUT, EventType.ACCOUNT_FROZEN]
    ):
        _publish(user, event=event, key=str(key))

    assert Notification.objects.filter(user=user, channel=Channel.SMS).count() == 3


def test_channels_follow_the_catalogue_for_staff_and_security_events():
    staff = UserFactory(email="ops@example.com", is_staff=True)
    customer = UserFactory(email="li@example.com")

    _publish(staff, event=EventType.APPEAL_SLA_BREACHED, key="sla:1")
    _publish(customer, event=EventType.LOGIN_CODE, key="code:1")

    assert set(_rows(staff)) == {Channel.EMAIL, Channel.IN_APP}
    assert set(_rows(customer)) == {Channel.SMS}


def test_the_dispatch_is_kicked_on_commit_with_the_rows_due_now(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(enqueue, "broker_send", lambda task, **kw: sent.append((task, kw)))
    user = UserFactory(email="li@example.com")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _publish(user)
        assert sent == []  # nothing leaves before the commit

    rows = _rows(user)
    assert len(callbacks) == 1
    assert sent == [
        ("notifications.dispatch", {"ids": [rows[Channel.SMS].pk, rows[Channel.EMAIL].pk]})
    ]


def test_sms_written_in_the_quiet_hours_are_not_kicked(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(enqueue, "broker_send", lambda task, **kw: sent.append((task, kw)))
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        _publish(user, now=shanghai(2026, 3, 10, 23, 30))

    assert sent == []
    assert _rows(user)[Channel.SMS].next_attempt_at == shanghai(2026, 3, 11, 8, 0)


def test_publishing_with_the_broker_down_does_not_raise_and_the_rows_wait(
    django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(enqueue, "_broker_paused_until", 0.0)
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration, so
    # the dead broker goes there too (nothing listens on port 1). The configuration first:
    # monkeypatch restores the value it read, which after setenv would be the dead broker.
    monkeypatch.setattr(app.conf, "broker_url", DEAD_BROKER)
    monkeypatch.setenv("CELERY_BROKER_URL", DEAD_BROKER)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        _publish(user)

    assert _rows(user)[Channel.SMS].status == NotificationStatus.PENDING
    assert enqueue._broker_paused_until > 0  # later publishes skip the broker for a while


def test_a_batch_writes_every_notice_in_a_number_of_queries_that_does_not_grow_with_it(
    django_assert_max_num_queries,
):
    with_email = UserFactory.create_batch(30, email="li@example.com")
    without_email = UserFactory.create_batch(30, email="")
    opted_out = NotificationPreferenceFactory(marketing_opt_out=True).user
    cut = dict(POLICIES[EventType.LIMIT_CUT].sample)
    notices = [
        Notice(EventType.LIMIT_CUT, user, cut, f"cut:{user.pk}")
        for user in with_email + without_email
    ]
    notices.append(notices[0])  # the same notice twice in one batch is still one notice
    notices.append(Notice(EventType.MARKETING, opted_out, {}, "campaign:618"))

    with django_assert_max_num_queries(2):  # the opt-outs, one insert
        publish_many(notices, now=NOW)

    rows = Notification.objects.filter(event=EventType.LIMIT_CUT)
    assert rows.filter(channel=Channel.SMS).count() == 60
    assert rows.filter(channel=Channel.IN_APP).count() == 60
    assert set(rows.filter(channel=Channel.EMAIL).values_list("user_id", flat=True)) == {
        user.pk for user in with_email
    }
    assert rows.get(user=with_email[0], channel=Channel.SMS).context == cut
    assert not Notification.objects.filter(user=opted_out).exists()


def test_a_large_batch_kicks_one_dispatch_per_batch_of_rows(
    django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.NOTIFICATIONS_BATCH_SIZE = 4
    sent = []
    monkeypatch.setattr(enqueue, "broker_send", lambda task, **kw: sent.append(kw) or True)
    users = UserFactory.create_batch(5, email="")
    notices = [Notice(EventType.LOGIN_CODE, u, {"code": "1"}, f"code:{u.pk}") for u in users]

    with django_capture_on_commit_callbacks(execute=True):
        publish_many(notices, now=NOW)

    sms = Notification.objects.filter(channel=Channel.SMS).order_by("pk")
    ids = list(sms.values_list("pk", flat=True))
    assert [kw["ids"] for kw in sent] == [ids[:4], ids[4:]]


def test_within_the_kick_window_one_sweep_at_its_end_replaces_the_later_kicks(
    django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.NOTIFICATIONS_KICK_WINDOW_SECONDS = 30.0
    monkeypatch.setattr(enqueue._KickWindow, "ends", 0.0)  # no window open yet (restored after)
    monkeypatch.setattr(enqueue._KickWindow, "sweep_sent", False)
    sent = []
    monkeypatch.setattr(enqueue, "broker_send", lambda task, **kw: sent.append((task, kw)) or True)
    users = UserFactory.create_batch(4, email="")

    for user in users:
        with django_capture_on_commit_callbacks(execute=True):
            publish(
                event=EventType.LOGIN_CODE,
                user=user,
                context={},
                dedupe_key=f"c:{user.pk}",
                now=NOW,
            )
    first = Notification.objects.get(user=users[0], channel=Channel.SMS)

    assert [task for task, _kw in sent] == ["notifications.dispatch", "notifications.sweep"]
    assert sent[0][1] == {"ids": [first.pk]}
    assert 29 < sent[1][1]["countdown"] <= 30  # runs when the window closes

    enqueue._KickWindow.ends = 0.0  # the window closed: the next commit kicks at once again
    with django_capture_on_commit_callbacks(execute=True):
        publish(event=EventType.LOGIN_CODE, user=users[0], context={}, dedupe_key="c:x", now=NOW)
    assert sent[-1][0] == "notifications.dispatch"
