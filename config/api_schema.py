"""The OpenAPI schema's error answers, documented once for every operation.

`ApiAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation the statuses
any API view can answer, all with the `Error` component (`{code, detail}`, see
config/api_errors.py), and for writes the ones a write can answer; views declare only their
successes and what is particular to them (a throttle's own description). A status a view declares
itself keeps its description and gets the `Error` body if it has none.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before retrying.",
    }
}

COMMON_ERRORS = {
    400: "Invalid input: `invalid_input` (the field errors in `errors`), `parse_error` "
    "(a body that cannot be read) or a domain refusal's own code.",
    401: "`not_authenticated` or `authentication_failed`.",
    403: "`permission_denied`: not allowed for this caller.",
    404: "`not_found` (unknown, or not yours) or `no_credit_account`.",
    405: "`method_not_allowed`.",
    406: "`not_acceptable`: only JSON is offered.",
    409: "Refused by the current state (e.g. a frozen account, a code already used), or "
    "`idempotency_key_in_flight`.",
    429: "`throttled`: too many requests; see `Retry-After`.",
    500: "`server_error`: an unexpected failure.",
    503: "`service_unavailable`: the database or the broker is unreachable; see `Retry-After`.",
}
WRITE_ERRORS = {
    415: "`unsupported_media_type`.",
    422: "`idempotency_key_reused`: the key was used with another body.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH"}
WITH_RETRY_AFTER = {"429", "503"}


class ErrorSerializer(serializers.Serializer):
    """Every refusal and failure of the API."""

    code = serializers.CharField(help_text="Stable, snake_case; see docs/credit.md.")
    detail = serializers.CharField(help_text="Human message in the answer's language.")
    errors = serializers.DictField(
        required=False, help_text="`invalid_input` only: the messages of each field."
    )

    class Meta:
        ref_name = "Error"


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in WRITE_METHODS:
            errors.update(WRITE_ERRORS)
        for status, description in sorted(errors.items()):
            code = str(status)
            error = self._get_response_for_code(
                OpenApiResponse(response=ErrorSerializer, description=description),
                code,
                direction=direction,
            )
            if code not in responses:
                responses[code] = error
            elif "content" not in responses[code]:
                responses[code]["content"] = error["content"]
            if code in WITH_RETRY_AFTER:
                responses[code]["headers"] = {**responses[code].get("headers", {}), **RETRY_AFTER}
        return responses
