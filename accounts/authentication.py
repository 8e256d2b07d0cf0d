"""How a customer app authenticates: `Authorization: Token <token>` (django-rest-knox).

Kept apart from the API views: DRF loads its default authentication classes while importing
its views, so this module must not import them.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions

from accounts.roles import user_has_staff_flag


class CustomerTokenAuthentication(TokenAuthentication):
    """knox's token check, with two changes: an expired token is deleted alone (knox also
    reads every other token of the user on each call; `api_token_issue` sweeps those), and a
    token whose owner has become staff no longer works — no staff member acts as a customer."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False

    def validate_user(self, auth_token):
        user = auth_token.user
        if user_has_staff_flag(user):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().validate_user(auth_token)
