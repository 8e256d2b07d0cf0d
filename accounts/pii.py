"""Personal data in the back office: the masked cells every admin shows, and the one way to
the full number (a reason, then `services.pii_reveal`, which checks and records it)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.national_id import national_id_masked
from accounts.phone import phone_masked
from accounts.services import REVEAL_PII


@admin.display(description=_("mobile number"), ordering="phone")
def masked_phone(obj) -> str:
    """A list or read-only cell: the user's (or a row's own) number, masked."""
    return phone_masked(obj.phone)


@admin.display(description=_("national ID"), ordering="national_id_last4")
def masked_national_id(profile) -> str:
    return national_id_masked(profile.national_id_last4)


def reveal_operations(request, user: User | None) -> list[tuple[str, str]]:
    """The "Show full number" button of a change page, for staff who may reveal it."""
    if user is None or not request.user.has_perm(REVEAL_PII):
        return []
    return [(reverse("admin:accounts_user_reveal", args=[user.pk]), _("Show full number"))]
