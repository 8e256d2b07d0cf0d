"""The history of risk-rule settings: each approved change is a version (who asked, who approved)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from credit.risk.models.events import RiskRule

User = settings.AUTH_USER_MODEL


class RiskRuleVersion(models.Model):
    """A rule's editable fields after an approved change, and before it."""

    rule = models.ForeignKey(RiskRule, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    values = models.JSONField(_("settings"))
    previous = models.JSONField(_("settings before"))
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approval = models.OneToOneField(
        "credit.ApprovalRequest", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("applied at"))

    class Meta:
        verbose_name = _("risk rule version")
        verbose_name_plural = _("risk rule versions")
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="riskruleversion_unique"),
            models.CheckConstraint(
                condition=~Q(approved_by=F("requested_by")),
                name="riskruleversion_checker_differs_from_maker",
            ),
        ]

    def __str__(self):
        return f"{self.rule} v{self.version}"
