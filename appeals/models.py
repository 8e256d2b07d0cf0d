"""Appeals: a customer contests a decision about their credit line; staff decide within an SLA.

The status is a protected django-fsm field; every transition is logged in django-fsm-log's
StateLog with its actor and description. Transition methods change only this model's fields;
the services in `appeals.services` lock, check the rules, apply decisions and notify.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from credit.models.fields import MoneyField


class AppealType(models.TextChoices):
    LIMIT_DECREASE = "LIMIT_DECREASE", _("Limit decrease")
    FREEZE = "FREEZE", _("Account freeze")
    RESTORATION = "RESTORATION", _("Limit restoration")
    REPAYMENT_EXTENSION = "REPAYMENT_EXTENSION", _("More time to repay")
    ACCELERATION = "ACCELERATION", _("Early repayment demand")


class AppealStatus(models.TextChoices):
    SUBMITTED = "SUBMITTED", _("Submitted")
    IN_REVIEW = "IN_REVIEW", _("In review")
    NEEDS_INFO = "NEEDS_INFO", _("Needs your information")
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION", _("Awaiting second approval")
    APPROVED = "APPROVED", _("Approved")
    REJECTED = "REJECTED", _("Rejected")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")


# Open: not decided and not withdrawn. One open appeal per target and freeze reason
# (constraint below).
OPEN_STATUSES = (
    AppealStatus.SUBMITTED,
    AppealStatus.IN_REVIEW,
    AppealStatus.NEEDS_INFO,
    AppealStatus.AWAITING_CONFIRMATION,
)
# The SLA clock runs in these (it is paused while NEEDS_INFO).
CLOCK_RUNNING_STATUSES = (
    AppealStatus.SUBMITTED,
    AppealStatus.IN_REVIEW,
    AppealStatus.AWAITING_CONFIRMATION,
)
DECIDED_STATUSES = (AppealStatus.APPROVED, AppealStatus.REJECTED)


class Appeal(ConcurrentTransitionMixin, models.Model):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals"
    )
    account = models.ForeignKey(
        "credit.CreditAccount", on_delete=models.PROTECT, related_name="appeals"
    )
    type = models.CharField(_("type"), max_length=32, choices=AppealType.choices)
    # The decision appealed: the target of one of the kinds in appeals.kinds (a LimitChange,
    # the CreditAccount for a freeze, …).
    target_content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_content_type", "target_object_id")
    # FREEZE: the one freeze reason disputed (a credit.FreezeReason value); an approval lifts
    # that reason only. "" for the other kinds (and a freeze appeal from before reasons).
    freeze_reason = models.CharField(_("freeze reason appealed"), max_length=32, blank=True)
    reason = models.TextField(_("reason"))
    status = FSMField(
        _("status"),
        max_length=32,
        choices=AppealStatus.choices,
        default=AppealStatus.SUBMITTED,
        protected=True,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_appeals",
        verbose_name=_("reviewer"),
    )
    # --- SLA ------------------------------------------------------------------------------
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    due_at = models.DateTimeField(_("decision due at"))
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("seconds paused"), default=0)
    sla_breached_at = models.DateTimeField(_("deadline missed at"), null=True, blank=True)
    # --- decision -------------------------------------------------------------------------
    # Maker: who approved first (and how much that gives back); checker: who confirmed.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set by the reviewer, each read and written only by its kind's module: restoration to
    # this base limit (else the policy default applies); installment by this many days.
    restore_to = MoneyField(_("restore the base limit to"), null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), null=True, blank=True)
    restored_amount = MoneyField(_("limit given back"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("internal note"), blank=True)
    # What the customer reads about the decision (required on rejection).
    customer_reason = models.TextField(_("reason given to the customer"), blank=True)
    # The row the effect wrote (e.g. "credit.limitchange:42"), written once with the decision.
    effect_reference = models.CharField(max_length=100, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        permissions = [
            ("review_appeal", _("Can review appeals, ask for information and decide")),
            ("confirm_appeal", _("Can give the second approval of a large appeal")),
            ("message_appeal", _("Can write to customers about their appeals")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "target_content_type", "target_object_id", "freeze_reason"],
                condition=Q(status__in=OPEN_STATUSES),
                name="appeal_one_open_per_target_and_cause",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=F("submitted_at")), name="appeal_due_after_submission"
            ),
            models.CheckConstraint(
                condition=Q(restore_to__isnull=True) | Q(restore_to__gte=0),
                name="appeal_restore_to_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=DECIDED_STATUSES)
                | Q(decided_at__isnull=False, decided_by__isnull=False),
                name="appeal_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(status=AppealStatus.REJECTED) | ~Q(customer_reason=""),
                name="appeal_rejection_has_reason",
            ),
            # Maker-checker, held by the database too: the checker is someone else.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("approved_by")),
                name="appeal_checker_differs_from_maker",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-submitted_at"], name="appeal_customer_time"),
            models.Index(fields=["status", "due_at"], name="appeal_status_due"),
            models.Index(fields=["target_content_type", "target_object_id"], name="appeal_target"),
        ]

    def __str__(self):
        return f"appeal #{self.pk} {self.type} [{self.status}]"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def compute_due_at(self):
        """Submission + SLA + the time spent waiting for the customer."""
        return (
            self.submitted_at
            + timedelta(hours=settings.APPEALS_SLA_HOURS)
            + timedelta(seconds=self.paused_seconds)
        )

    # --- transitions (own fields only; services lock, save, audit and notify) ------------
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=AppealStatus.SUBMITTED, target=AppealStatus.IN_REVIEW)
    def start_review(self, *, reviewer, by=None, description=None):
        self.assigned_to = reviewer

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=AppealStatus.IN_REVIEW, target=AppealStatus.NEEDS_INFO)
    def request_info(self, *, at, by=None, description=None):
        self.paused_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=AppealStatus.NEEDS_INFO, target=AppealStatus.IN_REVIEW)
    def answer(self, *, at, by=None, description=None):
        self.paused_seconds += max(0, int((at - self.paused_at).total_seconds()))
        self.paused_at = None
        self.due_at = self.compute_due_at()

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status, source=AppealStatus.IN_REVIEW, target=AppealStatus.AWAITING_CONFIRMATION
    )
    def approve_pending_confirmation(self, *, at, by=None, description=None):
        self.approved_by = by
        self.approved_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status, source=AppealStatus.AWAITING_CONFIRMATION, target=AppealStatus.IN_REVIEW
    )
    def decline_confirmation(self, *, by=None, description=None):
        self.approved_by = None
        self.approved_at = None

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[AppealStatus.IN_REVIEW, AppealStatus.AWAITING_CONFIRMATION],
        target=AppealStatus.APPROVED,
    )
    def approve(self, *, at, by=None, description=None):
        if self.approved_by_id is None:
            self.approved_by = by
            self.approved_at = at
        elif self.approved_by_id != by.pk:
            self.confirmed_by = by
        self.decided_by = by
        self.decided_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=AppealStatus.IN_REVIEW, target=AppealStatus.REJECTED)
    def reject(self, *, at, customer_reason, by=None, description=None):
        self.customer_reason = customer_reason
        self.decided_by = by
        self.decided_at = at

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=list(OPEN_STATUSES), target=AppealStatus.WITHDRAWN)
    def withdraw(self, *, at, by=None, description=None):
        self.withdrawn_at = at
        if self.paused_at is not None:
            self.paused_seconds += max(0, int((at - self.paused_at).total_seconds()))
            self.paused_at = None


class MessageAuthor(models.TextChoices):
    CUSTOMER = "CUSTOMER", _("You")
    STAFF = "STAFF", _("Customer service")


class AppealMessage(models.Model):
    """The thread between the customer and staff; every message is visible to both sides."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_side = models.CharField(max_length=16, choices=MessageAuthor.choices)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("appeal message")
        verbose_name_plural = _("appeal messages")
        indexes = [models.Index(fields=["appeal", "created_at"], name="appealmessage_time")]

    def __str__(self):
        return f"appeal #{self.appeal_id} message #{self.pk} ({self.author_side})"


def attachment_upload_to(instance, filename):
    """A random name under appeals/: nothing about the customer, the appeal or the original."""
    return f"appeals/{secrets.token_hex(16)}{instance.extension}"


class AttachmentKind(models.TextChoices):
    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


ATTACHMENT_EXTENSIONS = {
    AttachmentKind.PDF: ".pdf",
    AttachmentKind.JPEG: ".jpg",
    AttachmentKind.PNG: ".png",
}


class AppealAttachment(models.Model):
    """A supporting document, kept privately (default storage, outside any served path)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        AppealMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(max_length=32, choices=AttachmentKind.choices)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("appeal attachment")
        verbose_name_plural = _("appeal attachments")
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty"),
        ]

    def __str__(self):
        return f"appeal #{self.appeal_id}: {self.original_name}"

    @property
    def extension(self) -> str:
        return ATTACHMENT_EXTENSIONS.get(self.content_type, "")
