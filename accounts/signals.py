from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.dispatch import receiver
from django.utils import timezone

from accounts.roles import sync_role_permissions
from accounts.services import login_event_record
from core.http import client_ip


@receiver(user_logged_in, dispatch_uid="accounts.record_login")
def _record_login(sender, request, user, **kwargs):
    if request is None:
        return
    login_event_record(
        user=user,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        device_id=getattr(request, "device_id", "") or "unknown",
        now=timezone.now(),
    )


@receiver(post_migrate, dispatch_uid="accounts.sync_roles")
def _sync_roles_after_migrate(sender, **kwargs):
    # post_migrate fires once per app that has models; act on the last one, when every
    # app's permissions exist.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != with_models[-1].label:
        return
    sync_role_permissions()
