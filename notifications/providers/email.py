"""Email through Django's email backends (`EMAIL_BACKEND`: SMTP in production, console locally).

SMTP has no idempotency key; the notification's key becomes the Message-ID (and an
`X-Idempotency-Key` header), so a resent copy after a crash is recognisably the same message.
"""

from collections.abc import Iterator, Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from notifications.providers import OutgoingMessage, Provider, SendResult


def message_id_for(key: str) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    return f"<notification-{key}@{domain}>"


class DjangoEmailProvider(Provider):
    def send_steps(self, messages: Sequence[OutgoingMessage]) -> Iterator[list[SendResult]]:
        # One connection for the batch; each message succeeds or fails on its own and is
        # recorded before the next one goes.
        with get_connection(fail_silently=False) as connection:
            for message in messages:
                try:
                    yield [SendResult(message_id=self._send(message, connection))]
                except Exception as exc:  # SMTP errors are many; all are retried with backoff
                    yield [SendResult(error=f"{type(exc).__name__}: {exc}")]

    def send(self, message: OutgoingMessage) -> str:
        with get_connection(fail_silently=False) as connection:
            return self._send(message, connection)

    def _send(self, message: OutgoingMessage, connection) -> str:
        message_id = message_id_for(message.idempotency_key)
        EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            connection=connection,
            headers={"Message-ID": message_id, "X-Idempotency-Key": message.idempotency_key},
        ).send()
        return message_id
