from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicingConfig(AppConfig):
    """The daily business-day close, acceleration and extensions (a sub-app of credit)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "credit.servicing"
    label = "servicing"
    verbose_name = _("Servicing")

    def ready(self):
        from credit.servicing import receivers  # noqa: F401 - connect the past-use check
