"""An SMS gateway reached over HTTPS: JSON in, message id out, requests signed with HMAC.

Request: `POST <NOTIFICATIONS_SMS_GATEWAY_URL>` with body
`{"to": "+8613912345678", "text": "…", "reference": "<idempotency key>"}` and headers

    Idempotency-Key: <notification id>      (the gateway sends once per key)
    X-Timestamp:     <unix seconds>
    X-Signature:     sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>

Answer: 2xx with `{"message_id": "…"}`. 4xx (except 408 and 429) is a permanent refusal
(a bad number, refused content): the notification goes DEAD at once. Anything else — 5xx,
408, 429, a timeout, a refused connection — is retried with backoff.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from notifications.providers import OutgoingMessage, Provider, ProviderError

RETRYABLE_CLIENT_ERRORS = {408, 429}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


class HttpSmsGateway(Provider):
    def __init__(self, *, url: str | None = None, secret: str | None = None, timeout=None):
        self.url = url if url is not None else settings.NOTIFICATIONS_SMS_GATEWAY_URL
        self.secret = secret if secret is not None else settings.NOTIFICATIONS_SMS_GATEWAY_SECRET
        self.timeout = timeout or settings.NOTIFICATIONS_SMS_GATEWAY_TIMEOUT
        if urlparse(self.url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("NOTIFICATIONS_SMS_GATEWAY_URL must be an http(s) URL.")
        if not self.secret:
            raise ImproperlyConfigured("NOTIFICATIONS_SMS_GATEWAY_SECRET must be set.")

    def send(self, message: OutgoingMessage) -> str:
        body = json.dumps(
            {"to": message.to, "text": message.body, "reference": message.idempotency_key},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": message.idempotency_key,
                "X-Timestamp": timestamp,
                "X-Signature": signature(self.secret, timestamp, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in RETRYABLE_CLIENT_ERRORS
            raise ProviderError(f"gateway answered {exc.code}", permanent=permanent) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ProviderError(f"gateway unreachable: {exc}") from exc
        except ValueError as exc:
            raise ProviderError("gateway answered something that is not JSON") from exc
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not message_id:
            raise ProviderError("gateway answer has no message_id")
        return str(message_id)
