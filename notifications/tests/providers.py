"""Test doubles selected through the provider settings (dotted paths)."""

from notifications.providers import OutgoingMessage, Provider, ProviderError


class BrokenSmsProvider(Provider):
    """A gateway that is down (or, with `permanent`, refuses every message)."""

    permanent = False
    calls: list[str] = []

    def send(self, message):
        type(self).calls.append(message.idempotency_key)
        raise ProviderError("gateway timed out", permanent=self.permanent)


class RefusingSmsProvider(BrokenSmsProvider):
    permanent = True


class RecordingProvider(Provider):
    """Keeps every message it is given instead of delivering it (a throwaway channel's)."""

    sandbox = True
    messages: list[OutgoingMessage] = []

    def send(self, message):
        type(self).messages.append(message)
        return f"rec-{message.idempotency_key}"
