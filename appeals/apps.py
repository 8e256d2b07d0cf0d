from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from appeals.kinds import KINDS

        for kind in KINDS.values():
            kind.ready()
