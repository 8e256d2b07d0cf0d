"""Stripe-style idempotency for every write of the API (invariant 8).

A write carries an `Idempotency-Key` header, scoped to its caller (a customer or a
merchant). In ONE transaction with the effect:

1. `pg_try_advisory_xact_lock` on (scope, key): if another request with this key is still
   running, answer 409 `idempotency_key_in_flight` at once instead of waiting;
2. a stored answer for the key: same request fingerprint → the same status and body again
   (header `Idempotent-Replayed: true`), different fingerprint → 422 `idempotency_key_reused`;
3. otherwise run the service and store its answer, so the effect and the record commit
   together: no crash can leave one without the other.

A refusal (invalid input, a frozen account, insufficient credit, ...) rolls the whole
transaction back and is not remembered: it had no effect, so nothing can happen twice, and
"nothing written" holds for refused requests. The same key may then be sent again once
the cause is gone (Stripe remembers refusals; we prefer that a refused request leaves no
row at all). An unexpected error rolls back the same way.
Records are kept `IDEMPOTENCY_KEY_TTL_HOURS` (≥ 24 h), then purged nightly
(`credit.services.idempotency.idempotency_records_purge`).
"""

import hashlib
import json
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from core.errors import DomainError
from credit.apis.base import SortedJSONRenderer
from credit.models import IdempotencyRecord
from credit.services.errors import IdempotencyKeyConflict

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyRequired(DomainError):
    code = "idempotency_key_required"
    default_message = _(
        "Send an Idempotency-Key header (1 to 255 characters) so a retried request "
        "cannot take effect twice."
    )


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency_key_in_flight"
    http_status = 409
    default_message = _(
        "A request with this idempotency key is still being processed; retry in a moment."
    )


def request_fingerprint(*, method: str, path: str, payload: dict) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "payload": payload},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_from(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyRequired()
    return key


def idempotent(*, request, scope: str, payload: dict, action: Callable[[], Response]) -> Response:
    """Run `action` at most once per (scope, key); see the module docstring."""
    key = idempotency_key_from(request)
    fingerprint = request_fingerprint(method=request.method, path=request.path, payload=payload)
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # Raw SQL on this hot path (every write of the API): two short statements, then one
        # INSERT after the effect, with none of the ORM's per-query cost.
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"idempotency:{scope}:{key}"],
        )
        if not cursor.fetchone()[0]:
            raise IdempotencyKeyInFlight()
        cursor.execute(_SELECT_RECORD, [scope, key])
        record = cursor.fetchone()
        if record is not None:
            stored_fingerprint, status, body = record
            if stored_fingerprint != fingerprint:
                raise IdempotencyKeyConflict()
            # Django's PostgreSQL backend hands jsonb back as text (its JSONField decodes it).
            response = Response(json.loads(body) if isinstance(body, str) else body, status=status)
            response["Idempotent-Replayed"] = "true"
            return response
        response = action()
        cursor.execute(
            _INSERT_RECORD,
            [
                scope,
                key,
                fingerprint,
                response.status_code,
                # What the client reads, as JSON (Decimals and dates rendered as strings).
                SortedJSONRenderer().render(response.data).decode(),
                now,
            ],
        )
    return response


_TABLE = IdempotencyRecord._meta.db_table
_SELECT_RECORD = (
    f"SELECT request_fingerprint, response_status, response_body FROM {_TABLE} "  # noqa: S608
    "WHERE scope = %s AND key = %s"
)
_INSERT_RECORD = (
    f"INSERT INTO {_TABLE} (scope, key, request_fingerprint, response_status, "  # noqa: S608
    "response_body, created_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s)"
)
