"""Four eyes on exposure: a staff action that raises exposure waits as a request until a
second, different person approves it (credit/services/approvals.py executes it then)."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ApprovalKind(models.TextChoices):
    BASE_LIMIT = "BASE_LIMIT", _("Base limit raise")
    TEMPORARY_GRANT = "TEMPORARY_GRANT", _("Temporary limit grant")
    FEE_SCHEDULE = "FEE_SCHEDULE", _("Fee schedule activation")
    RISK_POLICY = "RISK_POLICY", _("Risk policy activation")
    RISK_RULE = "RISK_RULE", _("Risk rule change")


class ApprovalStatus(models.TextChoices):
    PENDING = "PENDING", _("Waiting for a second approval")
    APPROVED = "APPROVED", _("Approved and applied")
    REJECTED = "REJECTED", _("Rejected")
    EXPIRED = "EXPIRED", _("Expired")
    CANCELLED = "CANCELLED", _("Cancelled by the requester")


# Decided by a checker (someone other than the maker).
CHECKED_STATUSES = (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)


class ApprovalRequest(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=ApprovalKind.choices)
    # What it acts on: a credit account, a fee schedule, a risk policy or a risk rule.
    target_content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_object_id = models.PositiveBigIntegerField()
    # The action's arguments (money as strings), re-validated and applied on approval.
    payload = models.JSONField(_("what is asked"), default=dict)
    summary = models.CharField(_("summary"), max_length=255)
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approval_requests",
        verbose_name=_("requested by"),
    )
    reason = models.TextField(_("why (requester)"), blank=True)
    created_at = models.DateTimeField(_("requested at"))
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ApprovalStatus.choices,
        default=ApprovalStatus.PENDING,
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("decision note"), blank=True)
    # The row the approval wrote (e.g. "credit.limitchange:42").
    outcome = models.CharField(_("result"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        permissions = [
            ("decide_approvalrequest", _("Can approve or reject another person's request")),
            (
                "exceed_policy_limit",
                _("Can request or approve a base limit above the risk policy's maximum"),
            ),
        ]
        constraints = [
            # Maker-checker, held by the database too: the checker is someone else.
            models.CheckConstraint(
                condition=Q(checker__isnull=True) | ~Q(checker=F("maker")),
                name="approval_checker_differs_from_maker",
            ),
            models.UniqueConstraint(
                fields=["kind", "target_content_type", "target_object_id"],
                condition=Q(status=ApprovalStatus.PENDING),
                name="approval_one_pending_per_target",
            ),
            # Approved and rejected rows name their checker; every decided row its time;
            # a pending row has neither.
            models.CheckConstraint(
                condition=~Q(status__in=CHECKED_STATUSES)
                | Q(checker__isnull=False, decided_at__isnull=False),
                name="approval_checked_has_checker",
            ),
            models.CheckConstraint(
                condition=~Q(status=ApprovalStatus.PENDING)
                | Q(checker__isnull=True, decided_at__isnull=True),
                name="approval_pending_is_undecided",
            ),
            models.CheckConstraint(
                condition=Q(status=ApprovalStatus.PENDING) | Q(decided_at__isnull=False),
                name="approval_decided_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="approval_expires_after_creation"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="approval_status_expiry")]

    def __str__(self):
        return f"approval #{self.pk} {self.kind} [{self.status}]"

    @property
    def reference(self) -> str:
        return f"{self.target_content_type.app_label}.{self.target_content_type.model}:{self.target_object_id}"
