from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def sms_provider_is_real(app_configs, **kwargs):
    """`check --deploy`: warn when SMS would go to the sandbox instead of a gateway."""
    if settings.NOTIFICATIONS_SMS_PROVIDER.endswith("SandboxSmsProvider"):
        return [
            Warning(
                "SMS go to the sandbox provider: customers receive none.",
                hint="Set NOTIFICATIONS_SMS_PROVIDER to "
                "notifications.providers.http_gateway.HttpSmsGateway and its URL and secret.",
                id="notifications.W001",
            )
        ]
    return []
