"""Rescoring runs: the run (an FSM), its chunks, one decision per scored account, and the
campaign grants it created."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from credit.models import CreditAccount, LimitChangeKind, TemporaryLimitGrant
from credit.models.fields import MoneyField
from credit.risk.models.policy import RiskPolicy, SeasonalCampaign
from credit.risk.scorecard import FEATURES

User = settings.AUTH_USER_MODEL


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
