"""A wrong decision reversed as if it never happened, linked to the decision it reverses.

Both stay on record: the wrong decision (a freeze's StateLog row, a LimitChange, an early
repayment demand, a probation) keeps its row; the reversal points at it (generically, plus a
direct link to a reversed cut, which the risk features read in SQL) and at the LimitChange
it wrote when it gave the limit back.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.choices import AccountStatus, FreezeReason, ReversalSource, ReversedDecision
from credit.models.accounts import CreditAccount, LimitChange
from credit.models.fields import MoneyField


class DecisionReversal(models.Model):
    """Append-only: one row per wrong decision reversed (`credit.services.decision_reverse`)."""

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="reversals")
    decision = models.CharField(_("decision"), max_length=16, choices=ReversedDecision.choices)
    source = models.CharField(_("found wrong by"), max_length=16, choices=ReversalSource.choices)
    # FREEZE: the freeze reason lifted ("" when every reason was).
    freeze_reason = models.CharField(
        _("freeze reason"), max_length=16, choices=FreezeReason.choices, blank=True
    )
    reason = models.TextField(_("why it was wrong"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What found it wrong: "risk.riskflag:12", "appeals.appeal:5", "risk.rescoringrun:3".
    source_ref = models.CharField(_("found wrong by (record)"), max_length=64, blank=True)
    # The wrong decision's own record, and when it was taken (charges since are waived).
    wrong_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wrong_id = models.PositiveBigIntegerField(null=True, blank=True)
    wrong = GenericForeignKey("wrong_type", "wrong_id")
    wrong_limit_change = models.ForeignKey(
        LimitChange, null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    wrong_at = models.DateTimeField(_("wrong decision taken at"))
    # What the reversal did.
    limit_change = models.OneToOneField(
        LimitChange, null=True, blank=True, on_delete=models.PROTECT, related_name="reversal_of"
    )
    status_before = models.CharField(max_length=16, choices=AccountStatus.choices)
    status_after = models.CharField(max_length=16, choices=AccountStatus.choices)
    limit_before = MoneyField(_("usable limit before"))
    limit_after = MoneyField(_("usable limit after"))
    penalty_waived = MoneyField(_("penalties waived"), default=0)
    # Penalties of the period the customer had already paid, given back to the credit balance.
    penalty_returned = MoneyField(_("penalties returned"), default=0)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("decision reversal")
        verbose_name_plural = _("decision reversals")
        constraints = [
            models.CheckConstraint(
                condition=Q(penalty_waived__gte=0, penalty_returned__gte=0),
                name="reversal_waived_non_negative",
            ),
            # A wrong decision is reversed once (per freeze reason).
            models.UniqueConstraint(
                fields=["wrong_type", "wrong_id", "decision", "freeze_reason"],
                condition=Q(wrong_id__isnull=False),
                name="reversal_once_per_decision",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="reversal_account_time")]

    def __str__(self):
        return f"{self.account_id}: {self.decision} reversed ({self.source})"
