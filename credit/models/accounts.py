from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.reasons import reason_texts
from credit import formulas
from credit.choices import AccountStatus, FreezeReason, LimitChangeKind
from credit.models.fields import MoneyField
from credit.transitions import (
    CLOSE,
    FREEZE,
    FREEZE_REASON_CODES,
    GO_NEGATIVE,
    GRADUATE,
    RECOVER,
    REVERSE,
    UNFREEZE,
    Change,
)


class CreditAccount(ConcurrentTransitionMixin, models.Model):
    """A customer's revolving credit line. Numbers and status change only through services.

    The database holds invariant 2 itself: a CHECK constraint (`formulas.STATUS_AGREES`) says
    that outside FROZEN and CLOSED an account is NEGATIVE exactly when its available credit is
    below zero.
    """

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="credit_account",
        verbose_name=_("customer"),
    )
    status = FSMField(
        _("status"),
        max_length=16,
        choices=AccountStatus.choices,
        default=AccountStatus.ACTIVE,
        protected=True,
    )
    base_limit = MoneyField(_("base limit"), default=Decimal("0.00"))
    # Sum of the temporary grants applied now (kept by the grant and expiry services).
    temporary_limit = MoneyField(_("temporary limit"), default=Decimal("0.00"))
    # While on probation after an incident, the usable limit is capped here.
    probation_limit_cap = MoneyField(_("probation cap"), null=True, blank=True)
    outstanding_principal = MoneyField(_("outstanding principal"), default=Decimal("0.00"))
    credit_balance = MoneyField(_("credit balance"), default=Decimal("0.00"))
    due_day = models.PositiveSmallIntegerField(_("monthly due day"), default=10)
    freeze_reasons = ArrayField(
        models.CharField(max_length=16, choices=FreezeReason.choices),
        default=list,
        blank=True,
        verbose_name=_("freeze reasons"),
    )
    # While the customer is asked to verify (credit.risk.verification), purchases above this
    # amount wait; NULL: no verification open. Kept by the verification services.
    verification_purchase_max = MoneyField(
        _("purchase maximum while verifying"), null=True, blank=True
    )
    status_reason_codes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # Probation: the limit before the incident, when it started, and when it may end.
    pre_incident_limit = MoneyField(_("limit before the incident"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        permissions = [
            ("freeze_creditaccount", _("Can freeze and unfreeze credit accounts")),
            ("set_limit_creditaccount", _("Can set credit limits")),
            ("grant_temporary_limit", _("Can grant temporary limits")),
            ("reverse_decision", _("Can reverse a wrong decision as our error")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(base_limit__gte=0), name="account_base_limit_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(temporary_limit__gte=0), name="account_temporary_limit_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(probation_limit_cap__isnull=True) | Q(probation_limit_cap__gte=0),
                name="account_probation_cap_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0), name="account_outstanding_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(verification_purchase_max__isnull=True)
                | Q(verification_purchase_max__gte=0),
                name="account_verification_purchase_max_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0), name="account_credit_balance_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=31), name="account_due_day_in_month"
            ),
            models.CheckConstraint(
                condition=formulas.STATUS_AGREES, name="account_negative_iff_available_below_zero"
            ),
            models.CheckConstraint(
                condition=~Q(status=AccountStatus.CLOSED)
                | Q(outstanding_principal=0, credit_balance=0),
                name="account_closed_only_at_zero_balance",
            ),
        ]

    def __str__(self):
        return f"{self.customer} [{self.get_status_display()}]"

    # --- derived numbers ---------------------------------------------------------------
    @property
    def effective_limit(self) -> Decimal:
        return formulas.effective_limit(
            base=self.base_limit, temporary=self.temporary_limit, cap=self.probation_limit_cap
        )

    @property
    def available(self) -> Decimal:
        """May be negative: a limit cut below what is owed (the customer is told why)."""
        return formulas.available(
            effective=self.effective_limit, outstanding=self.outstanding_principal
        )

    @property
    def can_purchase(self) -> bool:
        return formulas.may_purchase(status=self.status)

    # --- transitions (change only this model's fields; services save and notify) --------
    # Source, target and assignments come from credit.transitions, which the set-based
    # paths share; the StateLog row is written by its post_transition receiver (`by`,
    # `description` and `at` are read from the call).
    @transition(field=status, source=FREEZE.source, target=FREEZE.fsm_target)
    def freeze(self, *, reason: str, at, by=None, description=None, reason_codes=None):
        codes = reason_codes or [FREEZE_REASON_CODES[reason]]
        return FREEZE.apply(self, Change(at, codes, freeze_reason=reason))

    @transition(field=status, source=UNFREEZE.source, target=UNFREEZE.fsm_target)
    def unfreeze(self, *, at, by=None, description=None, reason_codes=None):
        return UNFREEZE.apply(self, Change(at, reason_codes or list(UNFREEZE.reasons)))

    def _available_below_zero(self) -> bool:
        return self.available < 0

    def _available_at_least_zero(self) -> bool:
        return self.available >= 0

    @transition(
        field=status,
        source=GO_NEGATIVE.source,
        target=GO_NEGATIVE.fsm_target,
        conditions=[_available_below_zero],
    )
    def go_negative(self, *, at, by=None, description=None, reason_codes=()):
        return GO_NEGATIVE.apply(self, Change(at, list(reason_codes)))

    @transition(
        field=status,
        source=RECOVER.source,
        target=RECOVER.fsm_target,
        conditions=[_available_at_least_zero],
    )
    def recover(self, *, at, by=None, description=None, reason_codes=()):
        return RECOVER.apply(self, Change(at, list(reason_codes)))

    @transition(field=status, source=GRADUATE.source, target=GRADUATE.fsm_target)
    def graduate(self, *, at, by=None, description=None, reason_codes=None):
        return GRADUATE.apply(self, Change(at, reason_codes or list(GRADUATE.reasons)))

    @transition(field=status, source=REVERSE.source, target=REVERSE.fsm_target)
    def reverse(self, *, at, by=None, description=None, reason_codes=None):
        return REVERSE.apply(self, Change(at, reason_codes or list(REVERSE.reasons)))

    def _zero_balance(self) -> bool:
        return self.outstanding_principal == 0 and self.credit_balance == 0

    @transition(
        field=status,
        source=CLOSE.source,
        target=CLOSE.fsm_target,
        conditions=[_zero_balance],
    )
    def close(self, *, at, by=None, description=None, reason_codes=None):
        return CLOSE.apply(self, Change(at, reason_codes or list(CLOSE.reasons)))


class GrantStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED", _("Scheduled")
    ACTIVE = "ACTIVE", _("Active")
    EXPIRED = "EXPIRED", _("Expired")
    REVOKED = "REVOKED", _("Revoked")


class TemporaryLimitGrant(models.Model):
    """Extra limit between two instants (a campaign such as 618 or 双11, or a staff grant)."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="temporary_grants"
    )
    amount = MoneyField(_("amount"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        max_length=16, choices=GrantStatus.choices, default=GrantStatus.SCHEDULED
    )
    campaign = models.CharField(_("campaign"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("temporary limit grant")
        verbose_name_plural = _("temporary limit grants")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="grant_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_at"], name="grant_status_ends")]

    def __str__(self):
        return f"+{self.amount} {self.starts_at:%Y-%m-%d}→{self.ends_at:%Y-%m-%d} ({self.status})"


class LimitChange(models.Model):
    """Append-only: one row for every change of base or effective limit (invariant 6)."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="limit_changes"
    )
    kind = models.CharField(max_length=32, choices=LimitChangeKind.choices)
    old_base_limit = MoneyField()
    new_base_limit = MoneyField()
    old_effective_limit = MoneyField()
    new_effective_limit = MoneyField()
    reason_codes = ArrayField(models.CharField(max_length=32), default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The automated run that made the change (rescoring run id); null for people.
    run_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("limit change")
        verbose_name_plural = _("limit changes")
        indexes = [models.Index(fields=["account", "-created_at"], name="limitchange_account_time")]

    def __str__(self):
        old, new = self.old_effective_limit, self.new_effective_limit
        return f"{self.account_id}: {old} → {new} ({self.kind})"

    @property
    def reasons(self) -> list[str]:
        return reason_texts(self.reason_codes)

    @property
    def is_decrease(self) -> bool:
        return self.new_effective_limit < self.old_effective_limit
