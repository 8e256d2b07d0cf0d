from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.models.accounts import CreditAccount
from credit.models.fields import MoneyField
from credit.models.purchases import Installment, Purchase


class RepaymentChannel(models.TextChoices):
    APP = "APP", _("In the app")
    BANK_TRANSFER = "BANK_TRANSFER", _("Bank transfer")
    AUTO_DEBIT = "AUTO_DEBIT", _("Automatic debit")
    CREDIT_BALANCE = "CREDIT_BALANCE", _("From your credit balance")


class Repayment(models.Model):
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="repayments")
    amount = MoneyField(_("amount"))
    channel = models.CharField(
        max_length=16, choices=RepaymentChannel.choices, default=RepaymentChannel.APP
    )
    # Set when the customer paid off one plan early; the saving is the waived future fees.
    payoff_plan = models.ForeignKey(
        "credit.InstallmentPlan",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payoffs",
    )
    fees_waived = MoneyField(_("fees waived"), default=0)
    idempotency_key = models.CharField(max_length=100)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="repayment_idempotency_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
        ]

    def __str__(self):
        return f"repayment #{self.pk} ¥{self.amount}"


class AllocationComponent(models.TextChoices):
    PENALTY = "PENALTY", _("Penalty")
    FEE = "FEE", _("Fee")
    PRINCIPAL = "PRINCIPAL", _("Principal")
    CREDIT_BALANCE = "CREDIT_BALANCE", _("Credit balance")


class RepaymentAllocation(models.Model):
    """Where each yuan of a repayment went. They sum exactly to the repayment (invariant 4)."""

    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    component = models.CharField(max_length=16, choices=AllocationComponent.choices)
    amount = MoneyField()

    class Meta:
        verbose_name = _("repayment allocation")
        verbose_name_plural = _("repayment allocations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(component="CREDIT_BALANCE", installment__isnull=True)
                | (~Q(component="CREDIT_BALANCE") & Q(installment__isnull=False)),
                name="allocation_target_matches_component",
            ),
        ]

    def __str__(self):
        return f"{self.component} {self.amount}"


class Refund(models.Model):
    """A merchant refund: reduces the remaining principal from the last installment backwards."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField(_("amount"))
    principal_reduced = MoneyField(default=0)
    fees_waived = MoneyField(default=0)
    # Fees the customer had already paid on the refunded principal (part of the credit added).
    fees_returned = MoneyField(db_default=0)
    credit_balance_added = MoneyField(default=0)
    merchant_reference = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["purchase", "idempotency_key"], name="refund_idempotency_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return f"refund #{self.pk} ¥{self.amount}"
