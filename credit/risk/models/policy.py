"""Policy versions: score bands, bounds and per-run caps, regional multipliers, seasonal
campaigns, and the record of each activation."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.provinces import Province
from credit.models.fields import MoneyField
from credit.risk.scorecard import MAX_SCORE, MIN_SCORE

User = settings.AUTH_USER_MODEL


class RiskPolicy(models.Model):
    """A version of the limit policy: score bands → base limit, bounds, per-run caps.

    Versions are immutable once activated (the admin shows them read-only); a change is a
    new draft (duplicate), activated by a risk manager. At most one version is active.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    notes = models.TextField(_("notes"), blank=True)
    # [{"min_score": 300, "limit": "500.00"}, ...] ascending, the first at 300.
    score_bands = models.JSONField(_("score bands → base limit"))
    min_limit = MoneyField(_("minimum limit"), default=Decimal("0.00"))
    max_limit = MoneyField(_("maximum limit"))
    # Limits are rounded down to a multiple of this before the per-run caps apply.
    limit_step = MoneyField(_("limit step"), default=Decimal("100.00"))
    # Per-run caps: when both an amount and a percent are set the smaller move wins.
    max_raise_amount = MoneyField(_("maximum raise per run"), null=True, blank=True)
    max_raise_percent = models.DecimalField(
        _("maximum raise per run, % of base"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    max_cut_amount = MoneyField(_("maximum cut per run"), null=True, blank=True)
    max_cut_percent = models.DecimalField(
        _("maximum cut per run, % of base"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # No automated raise within this many days after a cut (limits do not see-saw).
    raise_cooldown_days = models.PositiveIntegerField(
        _("raise cool-down after a cut, days"), default=90
    )
    is_active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(_("first activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("risk policy")
        verbose_name_plural = _("risk policies")
        permissions = [("activate_riskpolicy", _("Can activate a risk policy version"))]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="riskpolicy_one_active"
            ),
            models.CheckConstraint(
                condition=Q(min_limit__gte=0) & Q(max_limit__gte=F("min_limit")),
                name="riskpolicy_limits_ordered",
            ),
            models.CheckConstraint(condition=Q(limit_step__gt=0), name="riskpolicy_step_positive"),
        ]

    def __str__(self):
        return f"v{self.version} {self.name}{' (active)' if self.is_active else ''}"

    def bands(self) -> list[tuple[int, Decimal]]:
        """Validated bands as (min_score, limit), ascending."""
        try:
            bands = [(int(b["min_score"]), Decimal(str(b["limit"]))) for b in self.score_bands]
        except (TypeError, KeyError, ValueError, ArithmeticError) as exc:
            raise ValidationError(
                {"score_bands": _("Each band needs a min_score and a limit.")}
            ) from exc
        return bands

    def clean(self):
        super().clean()
        bands = self.bands()
        scores = [s for s, _limit in bands]
        if not bands or scores[0] != MIN_SCORE:
            raise ValidationError(
                {"score_bands": _("The first band must start at %(min)s.") % {"min": MIN_SCORE}}
            )
        if scores != sorted(set(scores)) or scores[-1] > MAX_SCORE:
            raise ValidationError(
                {"score_bands": _("Band scores must rise strictly and stay within 300–900.")}
            )
        if any(limit < 0 for _s, limit in bands):
            raise ValidationError({"score_bands": _("A band limit cannot be negative.")})


class RiskPolicyActivation(models.Model):
    """The audit of who activated which version, and which one it replaced."""

    policy = models.ForeignKey(RiskPolicy, on_delete=models.PROTECT, related_name="activations")
    previous = models.ForeignKey(
        RiskPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    activated_at = models.DateTimeField(_("activated at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("risk policy activation")
        verbose_name_plural = _("risk policy activations")

    def __str__(self):
        return (
            f"v{self.policy.version} by {self.activated_by} at {self.activated_at:%Y-%m-%d %H:%M}"
        )


class RegionalMultiplier(models.Model):
    """Scales the banded limit in one province between two dates (regional tightening < 1)."""

    policy = models.ForeignKey(
        RiskPolicy, on_delete=models.CASCADE, related_name="regional_multipliers"
    )
    province_code = models.CharField(_("province"), max_length=2, choices=Province.choices)
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    effective_from = models.DateField(_("effective from"))
    # The last day it applies; empty: until further notice.
    effective_to = models.DateField(_("effective to (inclusive)"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("regional multiplier")
        verbose_name_plural = _("regional multipliers")
        constraints = [
            models.CheckConstraint(
                condition=Q(multiplier__gte=0), name="regional_multiplier_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="regional_multiplier_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.province_code} × {self.multiplier} from {self.effective_from}"


class SeasonalCampaign(models.Model):
    """A temporary limit for eligible accounts between two instants (618, 双11)."""

    policy = models.ForeignKey(RiskPolicy, on_delete=models.CASCADE, related_name="campaigns")
    # Stored on each grant (TemporaryLimitGrant.campaign); one grant per account and name.
    name = models.CharField(_("campaign"), max_length=64)
    amount = MoneyField(_("temporary limit"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    min_score = models.PositiveSmallIntegerField(
        _("minimum score"),
        default=650,
        validators=[MinValueValidator(MIN_SCORE), MaxValueValidator(MAX_SCORE)],
    )

    class Meta:
        verbose_name = _("seasonal campaign")
        verbose_name_plural = _("seasonal campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="campaign_amount_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="campaign_ends_after_start"
            ),
            models.UniqueConstraint(fields=["policy", "name"], name="campaign_name_per_policy"),
        ]

    def __str__(self):
        return f"{self.name} +{self.amount}"
