from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import signals  # noqa: F401 - connects the login recorder and role sync
        from accounts.phone import phone_as_stored
        from core.admin import search_term_rewrites

        search_term_rewrites.append(phone_as_stored)
