"""Idempotency keys: the namespaces of the keys services store, and the retention of the
API's idempotency records (see credit/apis/idempotency.py).

Purchases, repayments and refunds carry an idempotency key, unique per account (or
purchase). Some keys are made by the system (`credit-balance:<source>` for a repayment from
the credit balance, `payment-code:<nonce>` for a merchant purchase, `portal:<uuid>` for a
portal form); a client's `Idempotency-Key` header is stored as `api:<key>` (or
`api:sha256:<hex>` when too long for the column). A client can therefore never name an
internal key, and the services refuse any key of theirs in an internal namespace.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings

from credit.models import IdempotencyRecord
from credit.services.errors import InternalIdempotencyKey

API_PREFIX = "api:"
CREDIT_BALANCE_PREFIX = "credit-balance:"
PAYMENT_CODE_PREFIX = "payment-code:"
PORTAL_PREFIX = "portal:"
# The column holding a service's idempotency key (Purchase, Repayment, Refund).
KEY_COLUMN_LENGTH = 100


def api_idempotency_key(client_key: str) -> str:
    """A client's Idempotency-Key as the services store it: in the `api:` namespace, hashed
    when it would not fit the column. Migration 0018 rewrote older rows to this form."""
    stored = API_PREFIX + client_key
    if len(stored) <= KEY_COLUMN_LENGTH:
        return stored
    return f"{API_PREFIX}sha256:{hashlib.sha256(client_key.encode()).hexdigest()}"


def idempotency_key_refuse_internal(key: str, *, internal: tuple[str, ...]) -> None:
    """A service whose caller hands it a key refuses one in a namespace the system fills
    itself, so no caller can occupy the key a later automatic step will need."""
    if key.startswith(internal):
        raise InternalIdempotencyKey()


def idempotency_records_purge(*, now: datetime) -> int:
    """Forget keys older than the retention period (never less than 24 hours)."""
    hours = max(24, settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _per_model = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=hours)
    ).delete()
    return deleted
