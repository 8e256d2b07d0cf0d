"""The portal inbox: a customer's own in-app notices, read marks, the header badge."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Language
from accounts.tests.factories import UserFactory
from core.events import EventType
from notifications.models import Channel, Notification, NotificationPreference
from notifications.tests.factories import NOW, InAppNotificationFactory, NotificationFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("notifications:inbox")


@pytest.fixture
def customer(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_the_inbox_lists_the_customers_own_in_app_notices_newest_first(client, customer):
    older = InAppNotificationFactory(user=customer, event=EventType.LIMIT_RAISED)
    newer = InAppNotificationFactory(
        user=customer, event=EventType.DUE_TODAY, created_at=NOW + timedelta(hours=1)
    )
    InAppNotificationFactory(event=EventType.ACCOUNT_FROZEN)  # someone else's
    NotificationFactory(user=customer, channel=Channel.SMS)  # not an inbox notice

    response = client.get(INBOX)

    assert response.status_code == 200
    page = response.content.decode()
    assert [n.pk for n, _text in response.context["notices"]] == [newer.pk, older.pk]
    assert "账单今天到期：¥1,326.40" in page
    assert "额度提升至¥8,000.00" in page
    assert "额度已冻结" not in page


def test_the_inbox_follows_the_customers_language(client):
    user = UserFactory(preferred_language=Language.EN)
    client.force_login(user)
    InAppNotificationFactory(user=user, event=EventType.DUE_TODAY)

    page = client.get(INBOX).content.decode()

    assert "Due today: ¥1,326.40" in page


def test_marking_a_notice_read_records_when(client, customer, monkeypatch):
    notice = InAppNotificationFactory(user=customer)

    response = client.post(reverse("notifications:mark_read", args=[notice.pk]))

    notice.refresh_from_db()
    assert response.status_code == 302
    assert notice.read_at is not None


def test_a_customer_cannot_mark_another_customers_notice_read(client, customer):
    foreign = InAppNotificationFactory()

    response = client.post(reverse("notifications:mark_read", args=[foreign.pk]))

    foreign.refresh_from_db()
    assert response.status_code == 404
    assert foreign.read_at is None


def test_an_sms_row_is_not_an_inbox_notice_even_for_its_owner(client, customer):
    sms = NotificationFactory(user=customer)

    response = client.post(reverse("notifications:mark_read", args=[sms.pk]))

    assert response.status_code == 404


def test_marking_all_read_touches_only_the_customers_unread_notices(client, customer):
    mine = [InAppNotificationFactory(user=customer) for _n in range(3)]
    foreign = InAppNotificationFactory()

    client.post(reverse("notifications:mark_all_read"))

    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=foreign.pk).read_at is None


def test_reading_needs_a_post(client, customer):
    notice = InAppNotificationFactory(user=customer)

    assert client.get(reverse("notifications:mark_read", args=[notice.pk])).status_code == 405
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405


def test_the_header_shows_the_unread_count(client, customer):
    for _n in range(3):
        InAppNotificationFactory(user=customer)
    InAppNotificationFactory(user=customer, read_at=NOW)
    InAppNotificationFactory()  # someone else's

    page = client.get(reverse("portal:home")).content.decode()

    assert re.search(rf'href="{INBOX}">消息\s*<span class="badge"[^>]*>3</span>', page)


def test_the_header_shows_no_badge_when_everything_is_read(client, customer):
    InAppNotificationFactory(user=customer, read_at=NOW)

    page = client.get(reverse("portal:home")).content.decode()

    assert 'class="badge"' not in page


def test_the_inbox_page_runs_a_bounded_number_of_queries(
    client, customer, django_assert_max_num_queries
):
    for n in range(30):
        InAppNotificationFactory(user=customer, event=list(EventType)[n % 20])

    with django_assert_max_num_queries(7):
        response = client.get(INBOX)

    assert len(response.context["notices"]) == 20
    assert response.context["page"].has_next()


def test_the_inbox_needs_a_login(client):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_customer_can_opt_out_of_marketing_and_back_in(client, customer):
    client.post(reverse("notifications:preferences"))  # the box unticked
    assert NotificationPreference.objects.get(user=customer).marketing_opt_out is True

    client.post(reverse("notifications:preferences"), {"marketing": "on"})
    assert NotificationPreference.objects.get(user=customer).marketing_opt_out is False
