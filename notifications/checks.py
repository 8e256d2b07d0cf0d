from django.core.checks import Tags, Warning, register

from notifications.channels import CHANNELS
from notifications.providers import provider_class


@register(Tags.compatibility, deploy=True)
def providers_are_real(app_configs, **kwargs):
    """`check --deploy`: warn for each channel whose messages would go to a sandbox."""
    return [
        Warning(
            f"{spec.key} messages go to the sandbox provider: customers receive none.",
            hint=f"Set {spec.provider_setting} to a provider that delivers them "
            "(docs/notifications.md, Providers).",
            id="notifications.W001",
        )
        for key, spec in CHANNELS.items()
        if spec.provider_setting and provider_class(key).sandbox
    ]
