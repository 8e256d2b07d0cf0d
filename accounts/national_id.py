"""Resident identity card numbers (GB 11643): check digit, keyed hash, last four digits.

The number itself is never stored. We keep an HMAC-SHA256 under a server-side key
(`NATIONAL_ID_HASH_KEY`), so the same person can be recognised across accounts without the
database holding anything that can be reversed, plus the last four characters for display.
"""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize_national_id(raw: str) -> str:
    value = (raw or "").strip().upper()
    if not _SHAPE.match(value):
        raise ValidationError(
            _("A national ID number has 18 characters: 17 digits and a digit or X."),
            code="invalid_national_id",
        )
    if value[17] != national_id_check_char(value[:17]):
        raise ValidationError(
            _("This national ID number's check digit is wrong; please check it."),
            code="invalid_national_id",
        )
    return value


def national_id_check_char(body: str) -> str:
    """The 18th character (GB 11643 check digit) for the first 17 digits."""
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def national_id_hash(normalized: str) -> str:
    key = settings.NATIONAL_ID_HASH_KEY.encode()
    return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()


def national_id_masked(last4: str) -> str:
    """The ID as staff see it: its length with only the stored last four characters,
    `**************123X` (we never hold more than those four)."""
    return "*" * 14 + (last4 or "****")
