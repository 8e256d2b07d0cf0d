"""Who is calling: a customer (token or session) or a merchant (API key)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from accounts.roles import user_has_staff_flag
from core.throttles import FailedApiKeyThrottle
from credit.models import Merchant
from credit.services.merchants import merchant_authenticate

INVALID_API_KEY = _("Invalid API key.")


class MerchantPrincipal:
    """The `request.user` of a merchant call: authenticated, but never a customer or staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None

    def __init__(self, merchant: Merchant):
        self.merchant = merchant

    def __str__(self):
        return f"merchant:{self.merchant.pk}"


class MerchantApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>` (or the `X-Api-Key` header)."""

    keyword = "Api-Key"

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY", "")
        header = authentication.get_authorization_header(request).decode("latin-1")
        if header:
            scheme, _space, value = header.partition(" ")
            if scheme.lower() != self.keyword.lower():
                return None
            raw = value.strip()
        if not raw:
            return None
        # An address that sent too many wrong keys is refused without a look at this one.
        failures = FailedApiKeyThrottle()
        wait = failures.blocked_for(request)
        if wait is not None:
            raise exceptions.Throttled(wait)
        merchant = merchant_authenticate(raw)
        if merchant is None:
            failures.failure_record(request)
            raise exceptions.AuthenticationFailed(INVALID_API_KEY)
        return MerchantPrincipal(merchant), merchant

    def authenticate_header(self, request):
        return self.keyword


class MerchantApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = MerchantApiKeyAuthentication
    name = "merchantApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>` — the key shown once when the "
            "merchant was created.",
        }


class IsCustomer(permissions.BasePermission):
    """A signed-in customer (not a merchant key, not staff); the views then act only on their
    own rows. Staff signed in to the back office cannot use the customer API with their
    session: no staff member acts as a customer."""

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and not isinstance(user, MerchantPrincipal)
            and not user_has_staff_flag(user)
        )


class IsMerchant(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, MerchantPrincipal)
