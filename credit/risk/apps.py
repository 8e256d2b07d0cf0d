from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """Features, scorecard, policy, rescoring runs and risk rules (a sub-app of credit)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "credit.risk"
    label = "risk"
    verbose_name = _("Risk engine")

    def ready(self):
        from credit.risk import approvals

        approvals.register()
