"""Mainland China mobile numbers: parsing, normalisation to E.164, validation."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s\-()]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")

INVALID_PHONE_MESSAGE = _(
    "Enter a mainland China mobile number: 11 digits starting with 13–19, "
    "optionally preceded by +86 (for example 138 0013 8000)."
)


def normalize_phone(raw: str) -> str:
    """Return the number as E.164 (`+8613800138000`) or raise ValidationError.

    Accepts spaces, dashes and brackets, and the prefixes `+86`, `86` or `0086`.
    """
    digits = _SEPARATORS.sub("", (raw or "").strip())
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    else:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
    if not _MAINLAND_MOBILE.match(digits):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    return "+86" + digits


def validate_phone(value: str) -> None:
    if normalize_phone(value) != value:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")


def phone_masked(phone: str) -> str:
    """+8613800138000 → 138****8000: the one way a number is shown to staff, in notices and
    logs (the full number only through `accounts.services.pii_reveal`)."""
    local = (phone or "").removeprefix("+86")
    if len(local) < 8:  # nothing sensible to keep: hide it all
        return "****"
    return f"{local[:3]}****{local[-4:]}"


def phone_as_stored(term: str) -> str:
    """A number typed in any accepted form, as stored (E.164); anything else as typed. Admin
    searches and the token endpoint look numbers up through it."""
    try:
        return normalize_phone(term)
    except ValidationError:
        return term


def axes_username(request, credentials) -> str:
    """Lock out by the normalised number, so `138…` and `+86138…` share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    try:
        return normalize_phone(raw)
    except ValidationError:
        return raw


# A mainland mobile number inside free text such as a URL: 11 digits starting 13–19, alone or
# after +86 / 86 / %2B86 (URL-encoded "+"), with no digit either side.
_NUMBER_IN_TEXT = re.compile(r"(?<!\d)(?:(?:\+|%2B)?86)?(1[3-9]\d{9})(?!\d)", re.IGNORECASE)


def phones_masked_in(text: str) -> str:
    """`text` with every mobile number in it masked as `phone_masked` shows one."""
    return _NUMBER_IN_TEXT.sub(lambda match: phone_masked(match.group(1)), text)
