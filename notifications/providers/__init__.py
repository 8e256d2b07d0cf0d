"""Providers: how a rendered notice leaves the building, one interface per channel.

A provider takes messages and answers, for each, the provider's message id or an error.
It is called with the notification's id as idempotency key, so a retry after a crash sends
nothing twice where the provider honours the key (the sandbox and the HTTP gateway do; SMTP
cannot, so email carries the key as its Message-ID for the receiving side to deduplicate).

Which class serves a channel is a setting, named by the channel's entry in
`notifications.channels` (`NOTIFICATIONS_SMS_PROVIDER`, `NOTIFICATIONS_EMAIL_PROVIDER`): a
dotted path to a `Provider` subclass.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.channels import CHANNELS


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    message_id: str = ""
    error: str = ""
    # A permanent failure (bad number, refused content) is not retried.
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.message_id)


class ProviderError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Provider:
    # Records messages instead of delivering them (`check --deploy` warns about it).
    sandbox: bool = False

    def send(self, message: OutgoingMessage) -> str:
        """Send one message; return the provider's message id or raise ProviderError."""
        raise NotImplementedError

    def send_steps(self, messages: Sequence[OutgoingMessage]) -> Iterator[list[SendResult]]:
        """Send a batch, yielding the results of each step as soon as it is done, in order
        (one result per message; never raises for one message).

        A step is what the provider sends at once: one message for a per-message API (the
        default), the whole batch for a bulk API that sends all or nothing. The dispatcher
        records each step before the next is sent, so a worker that dies mid-batch leaves
        at most one step sent but not recorded."""
        for message in messages:
            yield [self._send_one(message)]

    def _send_one(self, message: OutgoingMessage) -> SendResult:
        try:
            return SendResult(message_id=self.send(message))
        except ProviderError as exc:
            return SendResult(error=str(exc), permanent=exc.permanent)
        except Exception as exc:  # an unexpected error: retried with backoff, recorded
            return SendResult(error=f"{type(exc).__name__}: {exc}")


def provider_class(channel: str) -> type[Provider]:
    return import_string(getattr(settings, CHANNELS[channel].provider_setting))


def provider_for(channel: str) -> Provider:
    return provider_class(channel)()
