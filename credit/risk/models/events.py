"""Risk events: configurable rules over logins and profile changes, the flags they raise,
and the history of reserved mobile numbers."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.phone import phone_masked
from credit.models import CreditAccount

User = settings.AUTH_USER_MODEL


class RuleCode(models.TextChoices):
    SHARED_IP = "SHARED_IP", _("One network address, many accounts")
    PHONE_CHANGES = "PHONE_CHANGES", _("Reserved mobile number changed repeatedly")
    DEVICE_CHURN = "DEVICE_CHURN", _("Many new devices on one account")


class RuleAction(models.TextChoices):
    """What a rule's finding does to the accounts it names (beyond queueing a review)."""

    VERIFY = "VERIFY", _("Ask the customer to verify (one-time code); freeze only on failure")
    FREEZE = "FREEZE", _("Freeze the accounts at once")
    REVIEW_ONLY = "REVIEW_ONLY", _("Queue for review only")


class RiskRule(models.Model):
    """A configurable rule over login events and profile changes (see credit/risk/rules.py)."""

    code = models.CharField(_("rule"), max_length=32, choices=RuleCode.choices, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # SHARED_IP: distinct customers; PHONE_CHANGES: changes; DEVICE_CHURN: new devices.
    threshold = models.PositiveIntegerField(_("threshold"), validators=[MinValueValidator(1)])
    window_minutes = models.PositiveIntegerField(
        _("window, minutes"), validators=[MinValueValidator(1)]
    )
    # How far back each evaluation looks for windows that end (catches missed evaluations).
    lookback_minutes = models.PositiveIntegerField(
        _("look back, minutes"), default=24 * 60, validators=[MinValueValidator(1)]
    )
    action = models.CharField(
        _("action"), max_length=16, choices=RuleAction.choices, default=RuleAction.VERIFY
    )
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
        elif self.code == RuleCode.DEVICE_CHURN:
            text = _(
                "The account logged in from at least %(n)s new devices within %(days)s days."
            ) % {"n": self.threshold, "days": round(self.window_minutes / 1440, 1)}
        else:
            text = _(
                "The reserved mobile number was changed at least %(n)s times within %(days)s days."
            ) % {"n": self.threshold, "days": round(self.window_minutes / 1440, 1)}
        then = {
            RuleAction.FREEZE: _("The accounts are frozen and queued for review."),
            RuleAction.VERIFY: _(
                "The customers are asked to verify with a one-time code (not frozen) and the "
                "finding is queued for review."
            ),
        }.get(self.action, _("The account is queued for review (not frozen)."))
        return f"{text} {then}"

    @property
    def freeze(self) -> bool:
        return self.action == RuleAction.FREEZE


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
        return f"{self.user_id}: {phone_masked(self.old_phone)} → {phone_masked(self.new_phone)}"
