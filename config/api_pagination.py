"""The one pagination of every API list: `?limit=&offset=`, at most `API_MAX_PAGE_SIZE` rows.

- `limit` above the maximum is clamped to it (the answer's `next` link carries the clamped
  value); absent, it is `PAGE_SIZE`.
- `limit` that is not an integer ≥ 1, or `offset` that is not an integer ≥ 0, is refused
  with 400 `invalid_input` (never a 500, whatever its size).
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

# Anything longer cannot be a sensible row number (PostgreSQL's bigint has 19 digits).
MAX_DIGITS = 18


class ApiPagination(LimitOffsetPagination):
    limit_query_description = _(
        "Number of results to return per page (1 to the maximum page size; above it, the maximum)."
    )

    @property
    def max_limit(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    @property
    def default_limit(self) -> int:
        return min(settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50, self.max_limit)

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        return min(_parse(raw, name=self.limit_query_param, minimum=1), self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        return _parse(raw, name=self.offset_query_param, minimum=0)

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] = {
            "type": "integer",
            "minimum": 1,
            "maximum": 10**MAX_DIGITS - 1,
            "default": self.default_limit,
        }
        limit["description"] += f" Maximum page size: {self.max_limit}."
        offset["schema"] = {"type": "integer", "minimum": 0, "maximum": 10**MAX_DIGITS - 1}
        return [limit, offset]


def _parse(raw: str, *, name: str, minimum: int) -> int:
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        value = int(text)
        if value >= minimum:
            return value
    if minimum:
        message = _("Must be a whole number from %(minimum)d.") % {"minimum": minimum}
    else:
        message = _("Must be a whole number, 0 or more.")
    raise ValidationError({name: [message]})
