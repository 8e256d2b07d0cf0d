"""Test doubles selected through the provider settings (dotted paths)."""

import time

from django.core import mail
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend

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


class SlowFileEmailBackend(FileEmailBackend):
    """Django's file backend, 0.3 s a message and one file per message (written and flushed
    at once): a fault test can kill a worker in the middle of a batch and count what left."""

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            time.sleep(0.3)
            self.stream = None  # each message in its own file, closed after it
            self._fname = None
            sent += super().send_messages([message])
            self.close()
        return sent


class WorkerDied(BaseException):
    """Stands for a SIGKILL: not an Exception, so nothing in the dispatcher catches it."""


class DyingEmailBackend(LocmemEmailBackend):
    """Delivers `survive` messages to `mail.outbox`, then the worker "dies"."""

    survive = 2

    def send_messages(self, messages):
        sent = 0
        for message in messages:
            if len(mail.outbox) >= self.survive:
                raise WorkerDied
            sent += super().send_messages([message])
        return sent
