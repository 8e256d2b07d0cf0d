"""Factories for the outbox: notifications, preferences and the sandbox's messages."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from accounts.tests.factories import UserFactory
from core.events import EventType
from notifications.catalogue import POLICIES
from notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatus,
    SandboxSms,
)

# Tuesday 10 March 2026, 10:00 in Shanghai: outside the quiet hours.
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = date(2026, 3, 10)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    event = EventType.REPAYMENT_RECEIVED
    user = factory.SubFactory(UserFactory)
    channel = Channel.SMS
    template_key = factory.LazyAttribute(lambda o: o.event.lower())
    context = factory.LazyAttribute(lambda o: dict(POLICIES[o.event].sample))
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    status = NotificationStatus.PENDING
    next_attempt_at = factory.LazyAttribute(
        lambda o: None if o.status not in ("PENDING", "FAILED", "SENDING") else NOW
    )
    sent_at = factory.LazyAttribute(lambda o: NOW if o.status == NotificationStatus.SENT else None)
    created_at = NOW


class InAppNotificationFactory(NotificationFactory):
    channel = Channel.IN_APP
    status = NotificationStatus.SENT


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    marketing_opt_out = True
    updated_at = NOW


class SandboxSmsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxSms

    idempotency_key = factory.Sequence(str)
    message_id = factory.Sequence(lambda n: f"sbx-test-{n}")
    phone = "+8613900000000"
    text = "【信用付】测试"
    segments = 1
    created_at = NOW
    last_called_at = NOW
