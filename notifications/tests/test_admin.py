"""The back office: read-only outbox and sandbox, and a resend action that calls the service."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.permissions import NotPermitted
from notifications.models import (
    Channel,
    Notification,
    NotificationResend,
    NotificationStatus,
    SandboxSms,
)
from notifications.services import (
    AlreadyOnItsWay,
    notification_resend,
    notifications_dispatch,
)
from notifications.tests.factories import NOW, InAppNotificationFactory, NotificationFactory
from testkit import people

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def staff(client):
    user = people.staff()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications",
            codename__in=["view_notification", "resend_notification", "view_sandboxsms"],
        )
    )
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return user


def _resend(client, *rows):
    return client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [r.pk for r in rows]},
        follow=True,
    )


def test_resending_a_dead_notification_queues_the_same_row_from_attempt_one(client, staff):
    dead = NotificationFactory(
        status=NotificationStatus.DEAD, attempts=6, next_attempt_at=None, last_error="timeout"
    )

    response = _resend(client, dead)

    dead.refresh_from_db()
    assert "1 notification queued to be sent again." in response.content.decode()
    assert (dead.status, dead.attempts, dead.last_error) == (NotificationStatus.PENDING, 0, "")
    assert Notification.objects.count() == 1
    resend = NotificationResend.objects.get()
    assert (resend.notification, resend.copy, resend.actor) == (dead, None, staff)


def test_resending_a_sent_sms_sends_a_copy_under_its_own_idempotency_key(staff):
    sent = NotificationFactory()
    notifications_dispatch(now=NOW)

    copy = notification_resend(notification=sent, actor=staff, now=NOW)
    notifications_dispatch(now=NOW)

    copy.refresh_from_db()
    assert copy.pk != sent.pk
    assert copy.status == NotificationStatus.SENT
    assert NotificationResend.objects.filter(notification=sent, copy=copy, actor=staff).exists()
    assert copy.dedupe_key == f"{sent.dedupe_key}:resend:1"
    assert SandboxSms.objects.count() == 2
    assert notification_resend(notification=sent, actor=staff, now=NOW).dedupe_key.endswith(":2")


def test_resending_refuses_in_app_and_pending_rows_with_a_message(client, staff):
    in_app = InAppNotificationFactory()
    pending = NotificationFactory()

    response = _resend(client, in_app, pending)

    page = response.content.decode()
    assert "In-app notices stay in the inbox" in page
    assert "already on its way" in page
    assert Notification.objects.count() == 2
    with pytest.raises(AlreadyOnItsWay):
        notification_resend(notification=pending, actor=staff, now=NOW)


def test_staff_without_the_resend_permission_do_not_get_the_action(client):
    viewer = people.staff()
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)
    dead = NotificationFactory(status=NotificationStatus.DEAD, next_attempt_at=None)

    page = client.get(CHANGELIST)
    _resend(client, dead)

    assert page.status_code == 200
    assert 'value="resend"' not in page.content.decode()
    assert Notification.objects.get(pk=dead.pk).status == NotificationStatus.DEAD


def test_the_outbox_and_the_sandbox_are_read_only_pages(client, staff):
    row = NotificationFactory(channel=Channel.SMS)
    notifications_dispatch(now=NOW)

    outbox = client.get(CHANGELIST)
    sandbox = client.get(reverse("admin:notifications_sandboxsms_changelist"))
    detail = client.get(reverse("admin:notifications_notification_change", args=[row.pk]))

    assert outbox.status_code == sandbox.status_code == detail.status_code == 200
    assert "已收到您的还款" in sandbox.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_the_service_refuses_a_resend_by_staff_without_the_permission():
    dead = NotificationFactory(status=NotificationStatus.DEAD, attempts=6, next_attempt_at=None)
    with pytest.raises(NotPermitted):
        notification_resend(notification=dead, actor=UserFactory(is_staff=True), now=NOW)
    dead.refresh_from_db()
    assert (dead.status, NotificationResend.objects.count()) == (NotificationStatus.DEAD, 0)
