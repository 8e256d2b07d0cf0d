from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.models.fields import RateField

SUPPORTED_TERMS = (1, 3, 6, 9, 12, 24)


class FeeSchedule(models.Model):
    """Versioned pricing; exactly one is active. Activation checks the legal rate cap."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=False)
    penalty_daily_rate = RateField(_("penalty rate per day"), default=Decimal("0.000500"))
    # A penalty on an installment never exceeds this fraction of its overdue amount.
    penalty_cap_ratio = RateField(
        _("penalty cap (fraction of the overdue amount)"), default=Decimal("0.200000")
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=3)
    # The legal cap itself is the CREDIT_ANNUAL_RATE_CAP setting; activation records here the
    # cap the schedule was checked against (empty on a draft), for the record.
    annual_rate_cap = RateField(
        _("legal cap checked at activation"), null=True, blank=True, editable=False
    )
    early_payoff_waives_future_fees = models.BooleanField(
        _("early payoff waives future-period fees"), default=True
    )
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_fee_schedule"
            ),
            models.CheckConstraint(
                condition=Q(penalty_daily_rate__gte=0), name="fee_penalty_rate_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(penalty_cap_ratio__gte=0), name="fee_penalty_cap_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(annual_rate_cap__isnull=True) | Q(annual_rate_cap__gt=0),
                name="fee_rate_cap_positive",
            ),
        ]
        permissions = [("activate_feeschedule", _("Can activate a fee schedule"))]

    def __str__(self):
        return f"v{self.version} {self.name}{' (active)' if self.is_active else ''}"

    def monthly_rate(self, term: int) -> Decimal:
        for row in self.terms.all():
            if row.term_months == term:
                return row.monthly_fee_rate
        raise KeyError(term)

    @property
    def offered_terms(self) -> list[int]:
        return sorted(row.term_months for row in self.terms.all())


class FeeScheduleTerm(models.Model):
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="terms")
    term_months = models.PositiveSmallIntegerField(
        _("term (months)"), choices=[(t, str(t)) for t in SUPPORTED_TERMS]
    )
    monthly_fee_rate = RateField(_("fee per month (fraction of the principal)"))

    class Meta:
        verbose_name = _("fee schedule term")
        verbose_name_plural = _("fee schedule terms")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "term_months"], name="one_rate_per_term"),
            models.CheckConstraint(
                condition=Q(monthly_fee_rate__gte=0), name="fee_rate_non_negative"
            ),
            # Term 1 is the interest-free "pay next month" option.
            models.CheckConstraint(
                condition=~Q(term_months=1) | Q(monthly_fee_rate=0), name="term_one_is_free"
            ),
        ]

    def __str__(self):
        return f"{self.term_months}: {self.monthly_fee_rate}"
