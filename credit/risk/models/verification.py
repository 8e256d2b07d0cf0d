"""Customer verification: what a behaviour-only risk signal asks of the customer instead of a
freeze (a one-time code by SMS, entered in the portal). See credit/risk/verification.py."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credit.models import CreditAccount
from credit.risk.models.events import RiskFlag


class ChallengeStatus(models.TextChoices):
    OPEN = "OPEN", _("Waiting for the customer")
    PASSED = "PASSED", _("Verified")
    FAILED = "FAILED", _("Failed (too many wrong codes)")
    EXPIRED = "EXPIRED", _("Expired (not verified in time)")
    CANCELLED = "CANCELLED", _("Cancelled (the flag was cleared)")


class VerificationChallenge(models.Model):
    """One request to the customer to prove it is them; only the code's hash is stored."""

    account = models.ForeignKey(
        CreditAccount, on_delete=models.PROTECT, related_name="verification_challenges"
    )
    flag = models.ForeignKey(
        RiskFlag, on_delete=models.PROTECT, related_name="verification_challenges"
    )
    code_hash = models.CharField(_("code hash"), max_length=128)
    created_at = models.DateTimeField(_("opened at"))
    expires_at = models.DateTimeField(_("expires at"))
    # Codes sent so far (the first one included) and wrong codes entered.
    codes_sent = models.PositiveSmallIntegerField(_("codes sent"), default=1)
    attempts = models.PositiveSmallIntegerField(_("wrong codes entered"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("wrong codes allowed"))
    status = models.CharField(
        _("status"), max_length=16, choices=ChallengeStatus.choices, default=ChallengeStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("verification challenge")
        verbose_name_plural = _("verification challenges")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="OPEN"),
                name="verification_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="verification_expires_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(attempts__lte=models.F("max_attempts")),
                name="verification_attempts_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(status="OPEN", closed_at__isnull=True)
                | (~Q(status="OPEN") & Q(closed_at__isnull=False)),
                name="verification_closed_iff_not_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="OPEN"),
                name="verification_open_expiry",
            )
        ]

    def __str__(self):
        return f"verification {self.pk} of account {self.account_id} [{self.status}]"
