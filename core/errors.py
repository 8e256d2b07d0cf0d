"""Base of every domain refusal (see conventions: "Refuse rather than silently do nothing")."""


class DomainError(Exception):
    """A rule refused the request. Subclasses set `code`, `http_status` and a default message."""

    code = "domain_error"
    http_status = 400
    default_message = ""
    # Seconds after which trying again may succeed; the API sends it as `Retry-After`.
    retry_after: int | None = None

    def __init__(self, message=None, **extra):
        self.message = message if message is not None else self.default_message
        self.extra = extra
        super().__init__(str(self.message))
