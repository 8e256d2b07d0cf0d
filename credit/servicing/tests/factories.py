"""Open installments due on a given day, for the reminder tests: the rows the reminders' SQL
reads, with round numbers (¥400.00 principal + ¥7.20 fee each). They are written directly on
an account opened through the services, so the journal does not cover them; tests that need
the ledger invariants buy through testkit.credit instead."""

from decimal import Decimal

import factory

from credit.models import Installment, InstallmentPlan, InstallmentStatus, Purchase
from credit.tests.factories import MerchantFactory
from notifications.tests.factories import NOW, TODAY
from testkit.credit import launch_fee_schedule


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A purchase on the `account` a test gives (from testkit.credit.open_account)."""

    class Meta:
        model = Purchase

    merchant = factory.SubFactory(MerchantFactory)
    amount = Decimal("1200.00")
    term_months = 3
    idempotency_key = factory.Sequence(lambda n: f"purchase-{n}")
    created_at = NOW


class InstallmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstallmentPlan

    purchase = factory.SubFactory(PurchaseFactory)
    account = factory.SelfAttribute("purchase.account")
    fee_schedule = factory.LazyFunction(launch_fee_schedule)
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
