"""Who is calling: a customer (token or session) or a merchant (API key)."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import trans_real
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

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
    """A signed-in person (not a merchant key); the views then act only on their own rows."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, MerchantPrincipal))


class IsMerchant(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, MerchantPrincipal)


def header_language(request) -> str | None:
    """The first supported language of an explicit `Accept-Language` header, if any."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def api_language(request, user=None) -> str:
    """The one language rule of every API (customer, merchant, appeals): an explicit
    `Accept-Language` header wins, then the signed-in customer's preferred language, then
    the default (`LANGUAGE_CODE`, zh-hans). The language cookie is not consulted."""
    preferred = getattr(user, "preferred_language", "") if user is not None else ""
    return header_language(request) or preferred or settings.LANGUAGE_CODE


def activate_api_language(request, user=None) -> str:
    language = api_language(request, user)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


class ApiLanguage:
    """Mixin of every API view: answers (refusals included) follow `api_language`.

    Activated before authentication (its refusals are translated by the header or the
    default), then again once the caller is known (their preference)."""

    def initial(self, request, *args, **kwargs):
        activate_api_language(request)
        super().initial(request, *args, **kwargs)
        activate_api_language(request, request.user)
