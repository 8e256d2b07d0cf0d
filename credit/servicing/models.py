"""Servicing data: the closed business days, delinquency and its history, accelerations,
extensions. Installments, accounts and grants themselves live in `credit.models`."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.models import CreditAccount, Installment, InstallmentPlan
from credit.models.fields import MoneyField


class BusinessDay(models.Model):
    """A closed business date. The row is written in the close's transaction, so it exists
    exactly when every step of that day's close took effect; dates are closed in order."""

    business_date = models.DateField(_("business date"), unique=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    # Closed on the way to a later date (catch-up after downtime).
    catch_up = models.BooleanField(_("caught up"), default=False)
    # Per step: rows changed, events published and seconds taken, e.g.
    # {"overdue": {"rows": 120, "seconds": 0.41}, "penalties": {"rows": 80, "amount": "40.50"}}.
    steps = models.JSONField(_("steps"), default=dict)
    seconds = models.DecimalField(_("seconds"), max_digits=9, decimal_places=3)

    class Meta:
        verbose_name = _("business day")
        verbose_name_plural = _("business days")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.business_date}"


class DelinquencyBucket(models.TextChoices):
    CURRENT = "CURRENT", _("Current")
    DPD_1_30 = "DPD_1_30", _("1–30 days past due")
    DPD_31_60 = "DPD_31_60", _("31–60 days past due")
    DPD_61_90 = "DPD_61_90", _("61–90 days past due")
    DPD_90_PLUS = "DPD_90_PLUS", _("More than 90 days past due")


def bucket_for(days_past_due: int) -> str:
    """The bucket of a number of days past due (the close does the same in SQL)."""
    for bound, bucket in BUCKET_BOUNDS:
        if days_past_due <= bound:
            return bucket
    return DelinquencyBucket.DPD_90_PLUS


BUCKET_BOUNDS = (
    (0, DelinquencyBucket.CURRENT),
    (30, DelinquencyBucket.DPD_1_30),
    (60, DelinquencyBucket.DPD_31_60),
    (90, DelinquencyBucket.DPD_61_90),
)


class AccountDelinquency(models.Model):
    """An account's delinquency as of the last close. A row exists once the account has
    ever been past due; no row means it has always been current."""

    account = models.OneToOneField(
        CreditAccount, on_delete=models.PROTECT, primary_key=True, related_name="delinquency"
    )
    bucket = models.CharField(
        _("bucket"), max_length=16, choices=DelinquencyBucket.choices, db_index=True
    )
    # The oldest open installment's days past due, and what is overdue (principal + fee).
    days_past_due = models.PositiveIntegerField(_("days past due"))
    overdue_amount = MoneyField(_("overdue amount"))
    bucket_since = models.DateField(_("in this bucket since"))
    # The last business date on which something was overdue: probation counts clean days from it.
    last_overdue_date = models.DateField(_("last overdue on"), null=True, blank=True)
    worst_days_past_due = models.PositiveIntegerField(_("worst days past due"))
    updated_date = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("account delinquency")
        verbose_name_plural = _("account delinquency")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.account_id}: {self.bucket} ({self.days_past_due} d)"


class DelinquencyChange(models.Model):
    """History: one row each time an account's bucket changes (not one per account per day).

    Bucket changes are what collections, risk features ("worst bucket in 12 months") and
    customer service ask about; a daily snapshot of every account would write 200,000 rows
    a day to say "still current". The bucket on any past date is the last change up to it.
    """

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="delinquency_changes"
    )
    business_date = models.DateField(_("business date"))
    old_bucket = models.CharField(max_length=16, choices=DelinquencyBucket.choices)
    new_bucket = models.CharField(max_length=16, choices=DelinquencyBucket.choices)
    days_past_due = models.PositiveIntegerField(_("days past due"))
    overdue_amount = MoneyField(_("overdue amount"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("delinquency change")
        verbose_name_plural = _("delinquency changes")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["account", "business_date"], name="delinquency_change_once_a_day"
            )
        ]

    def __str__(self):
        return f"{self.account_id} {self.business_date}: {self.old_bucket} → {self.new_bucket}"


class AccelerationStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("In force")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")


class Acceleration(models.Model):
    """提前结清: a risk manager demands early repayment of a frozen account (audit row too)."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="accelerations"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AccelerationStatus.choices,
        default=AccelerationStatus.ACTIVE,
    )
    reason = models.TextField(_("reason (shown to the customer)"))
    # Why the account is frozen, as reason codes, so the customer reads the cause in words.
    reason_codes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    due_date = models.DateField(_("new due date"))
    amount = MoneyField(_("amount demanded"))
    installments_moved = models.PositiveIntegerField(_("installments moved"))
    demanded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("demanded by"),
    )
    demanded_at = models.DateTimeField(_("demanded at"))
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_note = models.TextField(_("why it was withdrawn"), blank=True)

    class Meta:
        verbose_name = _("early repayment demand")
        verbose_name_plural = _("early repayment demands")
        default_permissions = ("view",)
        permissions = [
            ("demand_acceleration", _("Can demand early repayment of a frozen account")),
            ("withdraw_acceleration", _("Can withdraw an early repayment demand")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="ACTIVE"),
                name="one_active_acceleration_per_account",
            ),
            models.CheckConstraint(
                condition=Q(status="ACTIVE", withdrawn_at__isnull=True)
                | Q(status="WITHDRAWN", withdrawn_at__isnull=False),
                name="acceleration_withdrawn_has_time",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.account_id} due {self.due_date} ({self.status})"


class InstallmentExtension(models.Model):
    """延期: one installment's due date moved, at most once per plan (audit row)."""

    installment = models.ForeignKey(
        Installment, on_delete=models.PROTECT, related_name="extensions"
    )
    plan = models.ForeignKey(InstallmentPlan, on_delete=models.PROTECT, related_name="extensions")
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("days"))
    old_due_date = models.DateField(_("old due date"))
    new_due_date = models.DateField(_("new due date"))
    penalty_waived = MoneyField(_("penalty waived"), default=0)
    reason = models.TextField(_("reason"))
    # Null when an approved appeal applied it (the appeal names its reviewer).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("extended by"),
    )
    created_at = models.DateTimeField(_("extended at"))

    class Meta:
        verbose_name = _("installment extension")
        verbose_name_plural = _("installment extensions")
        default_permissions = ("view",)
        permissions = [("extend_installment", _("Can extend an installment's due date"))]
        constraints = [
            models.UniqueConstraint(fields=["plan"], name="one_extension_per_plan"),
            models.CheckConstraint(
                condition=Q(new_due_date__gt=models.F("old_due_date")),
                name="extension_moves_due_date_later",
            ),
        ]

    def __str__(self):
        return f"{self.installment}: {self.old_due_date} → {self.new_due_date}"
