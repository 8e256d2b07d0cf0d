from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(sender, **kwargs):
    # post_migrate fires once per app that has models; act on the last one, when every
    # app's permissions exist.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != with_models[-1].label:
        return
    from accounts.roles import sync_role_permissions

    sync_role_permissions()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import signals  # noqa: F401 - connects the login recorder

        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
