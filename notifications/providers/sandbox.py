"""The sandbox SMS provider: records every message in `SandboxSms` instead of sending it.

It behaves like a gateway that honours idempotency keys: the first call with a key "sends"
(writes a row and answers a new message id); any later call with that key sends nothing,
counts the call and answers the first message id. Each call commits on its own, as an
external system would: a worker that dies after the call does not undo the send.

`NOTIFICATIONS_SANDBOX_DELAY_SECONDS` makes every message take that long and go one at a
time (a slow per-message API), so a fault test can kill a worker in the middle of a batch.
"""

import time
import uuid
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications.providers import OutgoingMessage, Provider, SendResult
from notifications.sms import sms_segments

_RECORD = """
INSERT INTO notifications_sandboxsms AS s
    (idempotency_key, message_id, phone, text, segments, calls, created_at, last_called_at)
SELECT m.key, m.message_id, m.phone, m.text, m.segments, 1, %(now)s, %(now)s
FROM unnest(%(keys)s::text[], %(ids)s::text[], %(phones)s::text[], %(texts)s::text[],
            %(segments)s::int[]) AS m(key, message_id, phone, text, segments)
ON CONFLICT (idempotency_key) DO UPDATE
    SET calls = s.calls + 1, last_called_at = EXCLUDED.last_called_at
RETURNING s.idempotency_key, s.message_id
"""


class SandboxSmsProvider(Provider):
    sandbox = True

    def send(self, message: OutgoingMessage) -> str:
        return self._record([message])[message.idempotency_key]

    def send_steps(self, messages: Sequence[OutgoingMessage]) -> Iterator[list[SendResult]]:
        delay = settings.NOTIFICATIONS_SANDBOX_DELAY_SECONDS
        if delay:  # a slow per-message API: one message a step
            for message in messages:
                time.sleep(delay)
                yield [SendResult(message_id=self.send(message))]
            return
        # A bulk API: the whole batch in one statement, so one step.
        ids = self._record(messages)
        yield [SendResult(message_id=ids[m.idempotency_key]) for m in messages]

    def _record(self, messages: Sequence[OutgoingMessage]) -> dict[str, str]:
        """One statement for the whole batch; answers key → message id (first send's id)."""
        params = {
            "now": timezone.now(),
            "keys": [m.idempotency_key for m in messages],
            "ids": [f"sbx-{uuid.uuid4().hex}" for _m in messages],
            "phones": [m.to for m in messages],
            "texts": [m.body for m in messages],
            "segments": [sms_segments(m.body) for m in messages],
        }
        with connection.cursor() as cursor:
            cursor.execute(_RECORD, params)
            return dict(cursor.fetchall())
