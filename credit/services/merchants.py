"""Merchants and how they prove who they are and whom they charge.

API keys: `<prefix>.<secret>`; only the prefix (for the lookup) and a SHA-256 of the whole
key are stored, so a database leak reveals no usable key. A key is 32 random bytes, so an
unsalted hash is as strong as a slow one would be, and it costs microseconds per request.

Payment codes: a customer's app shows a short-lived code (like a 付款码); the merchant sends
it with the amount. It is signed (nobody can forge one for another customer), expires after
`CREDIT_PAYMENT_CODE_TTL_SECONDS` and carries a nonce that becomes the purchase's idempotency
key, so one code pays for at most one purchase, however often the merchant sends it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from credit.models import CreditAccount, Merchant
from credit.services.errors import CreditError

_KEY_PREFIX_BYTES = 4  # → "mk_" + 8 hex characters = 11, within the 12 the column holds
_PAYMENT_CODE_SALT = "credit.payment-code"


class PaymentCodeInvalid(CreditError):
    code = "payment_code_invalid"
    default_message = _(
        "This payment code is not valid or has expired. Ask the customer to show a new one."
    )


class PaymentCodeUsed(CreditError):
    code = "payment_code_used"
    http_status = 409
    default_message = _("This payment code was already used for a different purchase.")


def _payment_code_ttl() -> int:
    return settings.CREDIT_PAYMENT_CODE_TTL_SECONDS


def merchant_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def merchant_create(*, name: str, now: datetime, single_purchase_max=None) -> tuple[Merchant, str]:
    """A merchant and its API key; the key is returned once and never stored."""
    prefix = f"mk_{secrets.token_hex(_KEY_PREFIX_BYTES)}"
    raw_key = f"{prefix}.{secrets.token_urlsafe(32)}"
    merchant = Merchant.objects.create(
        name=name,
        api_key_prefix=prefix,
        api_key_hash=merchant_key_hash(raw_key),
        single_purchase_max=single_purchase_max,
        created_at=now,
    )
    return merchant, raw_key


@transaction.atomic
def merchant_key_rotate(*, merchant: Merchant) -> str:
    """A new key replaces the old one at once (same prefix, so logs still identify it)."""
    raw_key = f"{merchant.api_key_prefix}.{secrets.token_urlsafe(32)}"
    Merchant.objects.filter(pk=merchant.pk).update(api_key_hash=merchant_key_hash(raw_key))
    return raw_key


def merchant_authenticate(raw_key: str) -> Merchant | None:
    """The active merchant holding this key, or None (constant-time hash comparison)."""
    prefix, dot, _secret = raw_key.partition(".")
    if not dot or not prefix:
        return None
    merchant = Merchant.objects.filter(api_key_prefix=prefix, is_active=True).first()
    if merchant is None:
        return None
    if not hmac.compare_digest(merchant.api_key_hash, merchant_key_hash(raw_key)):
        return None
    return merchant


@dataclass(frozen=True)
class PaymentCode:
    code: str
    expires_at: datetime


def payment_code_issue(*, account: CreditAccount, now: datetime) -> PaymentCode:
    """A code the customer shows to a merchant; it names the account and expires soon."""
    nonce = secrets.token_urlsafe(12)
    signer = signing.TimestampSigner(salt=_PAYMENT_CODE_SALT)
    # TimestampSigner stamps with the wall clock; `now` only states the expiry shown.
    code = signer.sign(f"{account.pk}:{nonce}")
    ttl = _payment_code_ttl()
    return PaymentCode(code=code, expires_at=now + timedelta(seconds=ttl))


def payment_code_resolve(*, code: str) -> tuple[int, str]:
    """(account id, nonce) of a valid, unexpired code; PaymentCodeInvalid otherwise."""
    signer = signing.TimestampSigner(salt=_PAYMENT_CODE_SALT)
    try:
        value = signer.unsign(code, max_age=_payment_code_ttl())
        account_id, nonce = value.split(":", 1)
        return int(account_id), nonce
    except (signing.BadSignature, ValueError) as exc:
        raise PaymentCodeInvalid() from exc
