"""The one language rule of every API (customer, merchant, appeals, tokens).

An explicit `Accept-Language` header naming a supported language wins; then the signed-in
customer's preferred language; then the default (`LANGUAGE_CODE`, zh-hans). The language
cookie (the portal's choice) is not consulted. Here, at the bottom of the layers, so every
app's API views can use it.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real


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
