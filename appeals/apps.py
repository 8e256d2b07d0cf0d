from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from appeals.selectors import pending_decreases_under_appeal
        from credit.risk.pending import confirmation_hold_register

        # Announced decreases under appeal wait: the customer was told the change waits.
        confirmation_hold_register(pending_decreases_under_appeal)
