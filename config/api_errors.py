"""One place that turns every failure into an HTTP answer with a stable error code.

Every `/api/` answer that is not a success is JSON `{code, detail}` (plus `errors` for
`invalid_input` and a domain refusal's extras):

- domain refusals (`core.errors.DomainError`) carry their own `code` and translated message;
- DRF's refusals: `invalid_input` (validation), `parse_error` (a body that cannot be read:
  one translated message, never the parser's internals), `not_authenticated`,
  `authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`,
  `not_acceptable`, `unsupported_media_type`, `throttled` (a rate limit, core/throttles.py:
  429 with `Retry-After`);
- unknown `/api/` paths: 404 `not_found` (`handler404`);
- the database or the broker unreachable, wherever it is noticed (a view, a middleware):
  503 `service_unavailable` with `Retry-After` (`handler500` looks at the exception it is
  called for, so it also sees the ones raised inside middleware);
- anything else: 500 `server_error` (`handler500`).
Non-API paths keep Django's HTML pages (and an HTML 503 page).
"""

import sys

import kombu.exceptions
import redis.exceptions
from django import db
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api_language import api_language
from core.errors import DomainError
from core.throttles import throttled_message

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30
# Connection failures of PostgreSQL, the Celery broker and the Redis cache.
UNAVAILABLE = (
    db.OperationalError,
    db.InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
UNAVAILABLE_MESSAGE = gettext_lazy("The service is temporarily unavailable; retry in a moment.")


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            {"code": exc.code, "detail": str(exc.message), **exc.extra},
            status=exc.http_status,
            headers={"Retry-After": str(exc.retry_after)} if exc.retry_after else None,
        )
    if isinstance(exc, UNAVAILABLE):
        return Response(
            _unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid_input",
            "detail": _first_message(exc.detail),
            "errors": exc.detail,
        }
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"code": "parse_error", "detail": _parse_error_message()}
    elif isinstance(exc, Http404 | exceptions.NotFound):
        response.data = {"code": "not_found", "detail": str(exceptions.NotFound.default_detail)}
    elif isinstance(exc, exceptions.Throttled):
        # DRF has set Retry-After; the message is ours, in the request's language.
        response.data = {"code": "throttled", "detail": throttled_message(exc.wait)}
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = {"code": code, "detail": str(exc.detail)}
    if response.status_code == status.HTTP_404_NOT_FOUND:
        response.data["code"] = "not_found"
    return response


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _parse_error_message() -> str:
    return _("The request body could not be read: send well-formed JSON or form data.")


def _unavailable_body() -> dict:
    return {"code": "service_unavailable", "detail": str(UNAVAILABLE_MESSAGE)}


# --- Django's error handlers (config/urls.py) -------------------------------------------------


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json(request, code: str, message, status_code: int, headers=None) -> JsonResponse:
    """`{code, detail}`; outside a DRF view nobody is authenticated yet, so the language is
    the `Accept-Language` header's, else the default (see core.api_language)."""
    with translation.override(api_language(request)):
        body = {"code": code, "detail": str(message)}
    response = JsonResponse(body, status=status_code, json_dumps_params={"ensure_ascii": False})
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def handler400(request, exception=None):
    if is_api_request(request):
        return _json(request, "bad_request", gettext_lazy("Bad request."), 400)
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if is_api_request(request):
        message = exceptions.PermissionDenied.default_detail
        return _json(request, "permission_denied", message, 403)
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if is_api_request(request):
        return _json(request, "not_found", exceptions.NotFound.default_detail, 404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return service_unavailable(request)
    if is_api_request(request):
        message = gettext_lazy("Something went wrong on our side; please try again later.")
        return _json(request, "server_error", message, 500)
    return defaults.server_error(request)


def service_unavailable(request):
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api_request(request):
        return _json(request, "service_unavailable", UNAVAILABLE_MESSAGE, 503, headers)
    title = _("Temporarily unavailable")
    response = HttpResponse(
        format_html(
            '<!doctype html><html><head><meta charset="utf-8"><title>{}</title></head>'
            "<body><h1>{}</h1><p>{}</p></body></html>",
            title,
            title,
            UNAVAILABLE_MESSAGE,
        ),
        status=503,
        headers=headers,
    )
    return response


class ApiContractMiddleware:
    """First in MIDDLEWARE, so the contract also holds under DEBUG (`make run`), where
    Django's technical pages replace `handler404` and `handler500`:

    - an unknown `/api/` path answers the JSON 404, not the technical 404 page;
    - a view that finds the database or the broker unreachable answers the 503.

    Failures inside the other middleware never reach a middleware's `get_response` as
    exceptions (Django turns each into a response where it rises, through `handler500`),
    so `handler500` is what answers them with the same 503 (with DEBUG off)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and is_api_request(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return handler404(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE):
            return service_unavailable(request)
        return None
