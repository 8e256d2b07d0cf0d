"""Risk engine data: policy versions, rescoring runs and their decisions, pending decreases,
risk rules and flags, phone-number history. Numbers and states change only through services.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from accounts.provinces import Province
from core.reasons import reason_texts
from credit.models import CreditAccount, LimitChange, LimitChangeKind, TemporaryLimitGrant
from credit.models.fields import MoneyField
from credit.risk.scorecard import FEATURES, MAX_SCORE, MIN_SCORE

User = settings.AUTH_USER_MODEL


# --- Policy ------------------------------------------------------------------------------
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


# --- Runs --------------------------------------------------------------------------------
class RunStatus(models.TextChoices):
    PLANNED = "PLANNED", _("Planned")
    RUNNING = "RUNNING", _("Running")
    AWAITING_APPROVAL = "AWAITING_APPROVAL", _("Awaiting approval (circuit breaker)")
    APPLIED = "APPLIED", _("Applied")
    DISCARDED = "DISCARDED", _("Discarded")
    FAILED = "FAILED", _("Failed")
    ROLLED_BACK = "ROLLED_BACK", _("Rolled back")
    SIMULATED = "SIMULATED", _("Dry run complete")


LIVE_RUN_STATUSES = (
    RunStatus.PLANNED,
    RunStatus.RUNNING,
    RunStatus.AWAITING_APPROVAL,
    RunStatus.APPLIED,
)


class RescoringRun(ConcurrentTransitionMixin, models.Model):
    """One rescoring of every open account as of a date. See credit/risk/runs.py."""

    as_of = models.DateField(_("as of"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = FSMField(
        _("status"),
        max_length=20,
        choices=RunStatus.choices,
        default=RunStatus.PLANNED,
        protected=True,
    )
    policy = models.ForeignKey(RiskPolicy, on_delete=models.PROTECT, related_name="runs")
    model_name = models.CharField(_("scoring model"), max_length=64)
    # The accounts of the run: ids up to this one, frozen when the run starts.
    max_account_id = models.BigIntegerField(null=True, blank=True)
    chunk_size = models.PositiveIntegerField()
    # Thresholds as they were when the run was planned (a setting change mid-run has no effect).
    cooling_off_percent = models.DecimalField(max_digits=5, decimal_places=2)
    cooling_off_hours = models.PositiveIntegerField()
    breaker_cut_percent = models.DecimalField(max_digits=5, decimal_places=2)
    breaker_mean_shift = models.PositiveIntegerField()
    # Counts per action, score histogram, top reason codes, mean score, breaker verdict.
    summary = models.JSONField(default=dict, blank=True)
    # Accounts reverted and skipped (changed since) by a rollback.
    rollback_report = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    planned_at = models.DateTimeField(_("planned at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rolled_back_at = models.DateTimeField(_("rolled back at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("rescoring run")
        verbose_name_plural = _("rescoring runs")
        permissions = [
            ("approve_rescoringrun", _("Can apply or discard a run held by the circuit breaker")),
            ("rollback_rescoringrun", _("Can roll back an applied rescoring run")),
        ]
        constraints = [
            # One live run per date: the nightly beat firing twice, or a restart, cannot
            # score the same day twice (a rolled back, failed or discarded day may run again).
            models.UniqueConstraint(
                fields=["as_of"],
                condition=Q(dry_run=False) & Q(status__in=LIVE_RUN_STATUSES),
                name="rescoringrun_one_live_per_date",
            ),
            # At most one live run is being computed or applied at a time.
            models.UniqueConstraint(
                fields=["dry_run"],
                condition=Q(dry_run=False) & Q(status__in=[RunStatus.PLANNED, RunStatus.RUNNING]),
                name="rescoringrun_one_live_in_flight",
            ),
        ]

    def __str__(self):
        kind = _("dry run") if self.dry_run else _("run")
        return f"{kind} #{self.pk} {self.as_of} [{self.status}]"

    # Transitions change only this model's fields; services save, audit and notify.
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=RunStatus.PLANNED, target=RunStatus.RUNNING)
    def start(self, *, at, by=None, description=None):
        self.started_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.AWAITING_APPROVAL)
    def hold_for_approval(self, *, at, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL],
        target=RunStatus.APPLIED,
    )
    def mark_applied(self, *, at, by=None, description=None):
        self.finished_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.SIMULATED)
    def mark_simulated(self, *, at, by=None, description=None):
        self.finished_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=RunStatus.AWAITING_APPROVAL, target=RunStatus.DISCARDED)
    def discard(self, *, at, by=None, description=None):
        self.finished_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[RunStatus.PLANNED, RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL],
        target=RunStatus.FAILED,
    )
    def fail(self, *, at, error: str = "", by=None, description=None):
        self.finished_at = at
        self.last_error = error

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[RunStatus.APPLIED, RunStatus.FAILED],
        target=RunStatus.ROLLED_BACK,
    )
    def roll_back(self, *, at, by=None, description=None):
        self.rolled_back_at = at
        self.rolled_back_by = by


class RescoringChunk(models.Model):
    """A range of account ids; `scored_at` and `applied_at` are set in the transaction that
    wrote the chunk's decisions, and its changes, so a restarted run skips what is done."""

    run = models.ForeignKey(RescoringRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    first_account_id = models.BigIntegerField()
    last_account_id = models.BigIntegerField()
    scored_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    decisions = models.PositiveIntegerField(default=0)
    # What applying did: {"raised": n, "cut": n, "pending_created": n, ...}.
    applied_counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("rescoring chunk")
        verbose_name_plural = _("rescoring chunks")
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="rescoringchunk_number"),
        ]

    def __str__(self):
        return f"run {self.run_id} chunk {self.number} [{self.first_account_id}–{self.last_account_id}]"


class DecisionAction(models.TextChoices):
    RAISE = "RAISE", _("Raise")
    KEEP = "KEEP", _("Keep")
    CUT = "CUT", _("Cut")
    HOLD = "HOLD", _("Hold")


class PendingAction(models.TextChoices):
    NONE = "NONE", _("None")
    CREATE = "CREATE", _("Announce a decrease (cooling-off)")
    WAIT = "WAIT", _("Announced decrease still cooling off")
    CONFIRM = "CONFIRM", _("Confirm the announced decrease")
    CANCEL = "CANCEL", _("Cancel the announced decrease")
    REPLACE = "REPLACE", _("Cancel the announced decrease and announce a new one")


class RescoringDecision(models.Model):
    """One row per scored account per run: its features, score, reasons and what to do.

    RAISE and CUT move the base limit now; HOLD keeps it (a cut waiting out the cooling-off,
    a frozen account, a raise for an account over its limit); KEEP means no change.
    """

    # Indexed by the (run, account) unique constraint; no separate index on run alone.
    run = models.ForeignKey(
        RescoringRun, on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    account = models.ForeignKey(
        CreditAccount, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    account_status = models.CharField(max_length=16)
    # Features (see credit/risk/features.py).
    late_12m = models.PositiveSmallIntegerField()
    ontime_12m = models.PositiveSmallIntegerField()
    current_dpd = models.PositiveIntegerField()
    worst_dpd_12m = models.PositiveIntegerField()
    utilisation_pct = models.PositiveIntegerField()
    tenure_months = models.PositiveIntegerField()
    purchases = models.PositiveIntegerField()
    recent_flags = models.PositiveSmallIntegerField()
    cuts_90d = models.PositiveSmallIntegerField()
    days_since_cut = models.PositiveIntegerField(null=True)
    province_code = models.CharField(max_length=2, blank=True)
    # Score and policy.
    score = models.PositiveSmallIntegerField()
    reason_codes = ArrayField(models.CharField(max_length=32), default=list)
    multiplier = models.DecimalField(max_digits=5, decimal_places=4)
    old_base_limit = MoneyField()
    old_effective_limit = MoneyField()
    outstanding_principal = MoneyField()
    # What the policy proposes (after bounds and per-run caps) and what this run sets now.
    proposed_limit = MoneyField()
    new_base_limit = MoneyField()
    action = models.CharField(max_length=8, choices=DecisionAction.choices)
    kind = models.CharField(max_length=32, choices=LimitChangeKind.choices)
    pending_action = models.CharField(max_length=8, choices=PendingAction.choices)
    pending = models.ForeignKey(
        "PendingLimitDecrease",
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    campaign = models.ForeignKey(
        SeasonalCampaign,
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    campaign_amount = MoneyField(null=True)

    class Meta:
        verbose_name = _("rescoring decision")
        verbose_name_plural = _("rescoring decisions")
        constraints = [
            models.UniqueConstraint(fields=["run", "account"], name="rescoringdecision_once"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.score} {self.action} {self.old_base_limit}→{self.new_base_limit}"

    @property
    def features(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in FEATURES}


class RunGrant(models.Model):
    """A campaign grant a run created (what a rollback revokes)."""

    run = models.ForeignKey(RescoringRun, on_delete=models.CASCADE, related_name="grants")
    grant = models.OneToOneField(TemporaryLimitGrant, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("run grant")
        verbose_name_plural = _("run grants")

    def __str__(self):
        return f"run {self.run_id} grant {self.grant_id}"


# --- Cooling-off -------------------------------------------------------------------------
class PendingStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CANCELLED = "CANCELLED", _("Cancelled")


class PendingLimitDecrease(models.Model):
    """An automated cut announced in advance: it applies only when confirmed after
    `effective_at`, by a later run whose score still justifies it, or by risk staff."""

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
        ]
        indexes = [
            models.Index(fields=["status", "effective_at"], name="pendingdecrease_due"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.old_base_limit} → {self.new_base_limit} ({self.status})"

    @property
    def reasons(self) -> list[str]:
        return reason_texts(self.reason_codes)


# --- Risk events -------------------------------------------------------------------------
class RuleCode(models.TextChoices):
    SHARED_IP = "SHARED_IP", _("One network address, many accounts")
    PHONE_CHANGES = "PHONE_CHANGES", _("Reserved mobile number changed repeatedly")


class RiskRule(models.Model):
    """A configurable rule over login events and profile changes (see credit/risk/rules.py)."""

    code = models.CharField(_("rule"), max_length=32, choices=RuleCode.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # SHARED_IP: distinct accounts; PHONE_CHANGES: changes.
    threshold = models.PositiveIntegerField(_("threshold"), validators=[MinValueValidator(1)])
    window_minutes = models.PositiveIntegerField(
        _("window, minutes"), validators=[MinValueValidator(1)]
    )
    # How far back each evaluation looks for windows that end (catches missed evaluations).
    lookback_minutes = models.PositiveIntegerField(
        _("look back, minutes"), default=24 * 60, validators=[MinValueValidator(1)]
    )
    freeze = models.BooleanField(_("freeze the accounts"), default=False)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")

    def __str__(self):
        return self.get_code_display()

    @property
    def explanation(self) -> str:
        if self.code == RuleCode.SHARED_IP:
            text = _(
                "One IP address logged into at least %(n)s different accounts within "
                "%(minutes)s minutes."
            ) % {"n": self.threshold, "minutes": self.window_minutes}
        else:
            text = _(
                "The reserved mobile number was changed at least %(n)s times within %(days)s days."
            ) % {"n": self.threshold, "days": round(self.window_minutes / 1440, 1)}
        then = (
            _("The accounts are frozen and queued for review.")
            if self.freeze
            else _("The account is queued for review (not frozen).")
        )
        return f"{text} {then}"


class FlagStatus(models.TextChoices):
    OPEN = "OPEN", _("Open (to review)")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CLEARED = "CLEARED", _("Cleared")


class RiskFlag(models.Model):
    """What a rule found, and on whom: the review queue of risk staff."""

    rule = models.CharField(_("rule"), max_length=32, choices=RuleCode.choices)
    # What the flag is about ("ip:1.2.3.4", "user:42"); one open flag per rule and subject.
    subject = models.CharField(_("subject"), max_length=100)
    explanation = models.TextField(_("explanation"))
    evidence = models.JSONField(_("evidence"), default=dict)
    accounts = models.ManyToManyField(CreditAccount, related_name="risk_flags", blank=True)
    froze_accounts = models.BooleanField(_("froze the accounts"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    created_at = models.DateTimeField(_("raised at"), db_index=True)
    updated_at = models.DateTimeField(_("last evidence at"))
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        permissions = [("review_riskflag", _("Can confirm or clear risk flags"))]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=Q(status="OPEN"),
                name="riskflag_one_open_per_subject",
            ),
        ]

    def __str__(self):
        return f"{self.get_rule_display()} {self.subject} [{self.status}]"


class PhoneChange(models.Model):
    """History of a user's reserved mobile number (written by `user_phone_change`)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="phone_changes")
    old_phone = models.CharField(_("old number"), max_length=14)
    new_phone = models.CharField(_("new number"), max_length=14)
    changed_at = models.DateTimeField(_("changed at"))
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("phone number change")
        verbose_name_plural = _("phone number changes")
        indexes = [models.Index(fields=["user", "changed_at"], name="phonechange_user_time")]

    def __str__(self):
        return f"{self.user_id}: {self.old_phone} → {self.new_phone}"
