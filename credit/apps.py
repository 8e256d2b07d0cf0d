from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "credit"
    verbose_name = _("Credit")

    def ready(self):
        from django_fsm.signals import post_transition

        from credit.models import CreditAccount
        from credit.transitions import state_log_write

        post_transition.connect(state_log_write, sender=CreditAccount)
