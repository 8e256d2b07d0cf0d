"""Cooling-off: automated cuts announced in advance, applied only when confirmed."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.reasons import reason_texts
from credit.models import CreditAccount, LimitChange, LimitChangeKind
from credit.models.fields import MoneyField
from credit.risk.models.runs import RescoringRun

User = settings.AUTH_USER_MODEL


class PendingStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CANCELLED = "CANCELLED", _("Cancelled")


class PendingLimitDecrease(models.Model):
    """A cut announced in advance: it applies only when confirmed after `effective_at`, by
    a later run (an automated one only if its score still justifies it), or by risk staff.
    Automated cuts come from a run (`run`); staff cuts have `announced_by` and kind
    ANNOUNCED_CUT."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="pending_decreases"
    )
    run = models.ForeignKey(
        RescoringRun, null=True, blank=True, on_delete=models.PROTECT, related_name="pendings"
    )
    kind = models.CharField(max_length=32, choices=LimitChangeKind.choices)
    old_base_limit = MoneyField(_("base limit when announced"))
    new_base_limit = MoneyField(_("announced base limit"))
    old_effective_limit = MoneyField()
    new_effective_limit = MoneyField()
    reason_codes = ArrayField(models.CharField(max_length=32), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=PendingStatus.choices, default=PendingStatus.PENDING
    )
    created_at = models.DateTimeField(_("announced at"))
    effective_at = models.DateTimeField(_("effective from"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_run = models.ForeignKey(
        RescoringRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("note"), blank=True)
    # A staff cut announced in advance (kind ANNOUNCED_CUT): who announced it, and why.
    announced_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    announcement_note = models.TextField(_("why it was announced"), blank=True)
    limit_change = models.OneToOneField(
        LimitChange, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("pending limit decrease")
        verbose_name_plural = _("pending limit decreases")
        permissions = [
            ("decide_pendinglimitdecrease", _("Can confirm or cancel pending limit decreases"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="PENDING"),
                name="pendingdecrease_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(new_base_limit__lt=F("old_base_limit")) & Q(new_base_limit__gte=0),
                name="pendingdecrease_is_a_decrease",
            ),
            # A staff cut names who announced it and comes from no run; a run's cut is not one.
            models.CheckConstraint(
                condition=(
                    Q(kind=LimitChangeKind.ANNOUNCED_CUT)
                    & Q(announced_by__isnull=False)
                    & Q(run__isnull=True)
                )
                | (~Q(kind=LimitChangeKind.ANNOUNCED_CUT) & Q(announced_by__isnull=True)),
                name="pendingdecrease_staff_cut_has_its_author",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "effective_at"], name="pendingdecrease_due"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.old_base_limit} → {self.new_base_limit} ({self.status})"

    @property
    def reasons(self) -> list[str]:
        return reason_texts(self.reason_codes)
