"""Reads of people shared by other apps."""

from collections.abc import Iterable

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

_CHUNK = 5000  # ids per query: keeps each IN list (and its parameters) a modest size


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    """The users with these ids, loaded in bulk with what a notice needs of its recipient (set-
    based steps address thousands of customers at once)."""
    unique = sorted(set(ids))
    found: dict[int, User] = {}
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        found.update(User.objects.only("id", "email", "preferred_language", "phone").in_bulk(chunk))
    return found


def has_confirmed_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
