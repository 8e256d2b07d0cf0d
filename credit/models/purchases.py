from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from credit import formulas
from credit.choices import InstallmentStatus
from credit.models.accounts import CreditAccount
from credit.models.fees import FeeSchedule
from credit.models.fields import MoneyField, RateField


class Merchant(models.Model):
    """A shop that takes credit-line payments; it authenticates with an API key kept hashed."""

    name = models.CharField(_("name"), max_length=100)
    api_key_prefix = models.CharField(_("key prefix"), max_length=12, unique=True)
    api_key_hash = models.CharField(_("key hash"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    single_purchase_max = MoneyField(_("single purchase maximum"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return self.name


class PurchaseStatus(models.TextChoices):
    AUTHORIZED = "AUTHORIZED", _("Authorised")
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", _("Partly refunded")
    REFUNDED = "REFUNDED", _("Refunded")


class Purchase(models.Model):
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="purchases")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="purchases")
    amount = MoneyField(_("amount"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    merchant_reference = models.CharField(_("merchant order number"), max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(
        max_length=24, choices=PurchaseStatus.choices, default=PurchaseStatus.AUTHORIZED
    )
    refunded_amount = MoneyField(_("refunded"), default=0)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="purchase_idempotency_key"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="purchase_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="purchase_refund_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="purchase_account_time")]

    def __str__(self):
        return f"#{self.pk} ¥{self.amount} × {self.term_months}"


class PlanStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("Repaying")
    PAID_OFF = "PAID_OFF", _("Paid off")
    REFUNDED = "REFUNDED", _("Refunded")


class InstallmentPlan(models.Model):
    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="plan")
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="plans")
    fee_schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="plans")
    principal = MoneyField(_("principal"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    monthly_fee_rate = RateField(_("fee per month"))
    total_fee = MoneyField(_("total fee"))
    annual_rate = RateField(_("annualised rate"))
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    # Extensions (servicing): at most one per plan.
    extended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("installment plan")
        verbose_name_plural = _("installment plans")
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="plan_principal_positive")
        ]

    def __str__(self):
        return f"plan #{self.pk}: ¥{self.principal} / {self.term_months}"


class Installment(models.Model):
    """One period of a plan; due = principal − refunded, fee − waived, penalty − waived."""

    plan = models.ForeignKey(InstallmentPlan, on_delete=models.PROTECT, related_name="installments")
    # Denormalised so servicing and reminders can work set-based without joins.
    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="installments"
    )
    sequence = models.PositiveSmallIntegerField()
    due_date = models.DateField(_("due date"))
    original_due_date = models.DateField(_("original due date"))
    principal = MoneyField(_("principal"))
    fee = MoneyField(_("fee"))
    penalty = MoneyField(_("penalty"), default=0)
    principal_paid = MoneyField(default=0)
    fee_paid = MoneyField(default=0)
    penalty_paid = MoneyField(default=0)
    principal_refunded = MoneyField(default=0)
    fee_waived = MoneyField(default=0)
    penalty_waived = MoneyField(default=0)
    # A refund reaching principal the customer had already repaid returns it, with the fee
    # paid on it, as credit balance; these record how much of the paid part went back.
    principal_paid_refunded = MoneyField(db_default=0)
    fee_returned = MoneyField(db_default=0)
    status = models.CharField(
        max_length=16, choices=InstallmentStatus.choices, default=InstallmentStatus.PENDING
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # Servicing (the daily close) keeps these; see credit/servicing.
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    penalty_accrued_through = models.DateField(_("penalty accrued through"), null=True, blank=True)
    # Set while an acceleration demand moved the due date; withdrawal restores it.
    due_date_before_acceleration = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "sequence"], name="installment_sequence_unique"
            ),
            models.CheckConstraint(
                condition=Q(principal_paid__gte=0)
                & Q(principal_refunded__gte=0)
                & Q(principal_paid__lte=F("principal") - F("principal_refunded")),
                name="installment_principal_within_due",
            ),
            models.CheckConstraint(
                condition=Q(fee_paid__gte=0)
                & Q(fee_waived__gte=0)
                & Q(fee_paid__lte=F("fee") - F("fee_waived")),
                name="installment_fee_within_due",
            ),
            models.CheckConstraint(
                condition=Q(penalty_paid__gte=0)
                & Q(penalty_waived__gte=0)
                & Q(penalty_paid__lte=F("penalty") - F("penalty_waived")),
                name="installment_penalty_within_due",
            ),
            models.CheckConstraint(
                condition=Q(principal_paid_refunded__gte=0)
                & Q(principal_paid_refunded__lte=F("principal_paid"))
                & Q(fee_returned__gte=0)
                & Q(fee_returned__lte=F("fee_paid")),
                name="installment_returned_within_paid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="installment_status_due"),
            models.Index(fields=["account", "status"], name="installment_account_status"),
        ]

    def __str__(self):
        return f"{self.plan_id}/{self.sequence} due {self.due_date} ({self.status})"

    @property
    def principal_due(self):
        return formulas.principal_due(
            principal=self.principal, refunded=self.principal_refunded, paid=self.principal_paid
        )

    @property
    def fee_due(self):
        return formulas.fee_due(fee=self.fee, waived=self.fee_waived, paid=self.fee_paid)

    @property
    def penalty_due(self):
        return formulas.penalty_due(
            penalty=self.penalty, waived=self.penalty_waived, paid=self.penalty_paid
        )

    @property
    def amount_due(self):
        return self.principal_due + self.fee_due + self.penalty_due

    @property
    def is_open(self) -> bool:
        return formulas.installment_is_open(status=self.status)
