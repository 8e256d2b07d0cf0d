"""Factories for the outbox, and the few credit rows reminders read (built directly, not
through credit's services: these tests are about notices, not about lending)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from accounts.tests.factories import UserFactory
from core.events import EventType
from credit.models import (
    CreditAccount,
    FeeSchedule,
    Installment,
    InstallmentPlan,
    InstallmentStatus,
    Merchant,
    Purchase,
)
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


class CreditAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditAccount

    customer = factory.SubFactory(UserFactory)
    base_limit = Decimal("20000.00")
    opened_at = NOW


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"商户{n}")
    api_key_prefix = factory.Sequence(lambda n: f"mk{n:08d}")
    api_key_hash = "0" * 64
    created_at = NOW


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    account = factory.SubFactory(CreditAccountFactory)
    merchant = factory.SubFactory(MerchantFactory)
    amount = Decimal("1200.00")
    term_months = 3
    idempotency_key = factory.Sequence(lambda n: f"purchase-{n}")
    created_at = NOW


def _fee_schedule() -> FeeSchedule:
    """The schedule migration 0003 installs, or one of our own after a test flushed it."""
    return FeeSchedule.objects.order_by("pk").first() or FeeSchedule.objects.create(
        version=9001, name="Notifications tests", created_at=NOW
    )


class InstallmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstallmentPlan

    purchase = factory.SubFactory(PurchaseFactory)
    account = factory.SelfAttribute("purchase.account")
    fee_schedule = factory.LazyFunction(_fee_schedule)
    principal = Decimal("1200.00")
    term_months = 3
    monthly_fee_rate = Decimal("0.006000")
    total_fee = Decimal("21.60")
    annual_rate = Decimal("0.142100")
    created_at = NOW


class InstallmentFactory(factory.django.DjangoModelFactory):
    """One open installment: ¥400.00 principal + ¥7.20 fee due on `due_date`."""

    class Meta:
        model = Installment

    plan = factory.SubFactory(InstallmentPlanFactory)
    account = factory.SelfAttribute("plan.account")
    sequence = factory.Sequence(lambda n: n % 30000 + 1)
    due_date = TODAY
    original_due_date = factory.SelfAttribute("due_date")
    principal = Decimal("400.00")
    fee = Decimal("7.20")
    status = InstallmentStatus.PENDING
