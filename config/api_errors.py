"""One place that turns domain refusals into HTTP answers with a stable error code.

Every domain exception derives from `core.errors.DomainError`, which carries a `code`
(stable, snake_case, documented) and a human message (translated to the request's
language). DRF's own validation errors get the code `invalid_input`; a rate limit
(core/throttles.py) answers 429 `throttled` with `Retry-After`.
"""

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError
from core.throttles import throttled_message


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            {"code": exc.code, "detail": str(exc.message), **exc.extra},
            status=exc.http_status,
            headers={"Retry-After": str(exc.retry_after)} if exc.retry_after else None,
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
