"""Who is on the other end of a request: the client's IP address, one rule for every use
(login events, rate limits)."""

from django.conf import settings


def client_ip(request) -> str | None:
    # X-Forwarded-For is client-controlled; trust it only behind our own load balancer,
    # or anyone could dodge (or frame others with) the shared-IP risk rule or a rate limit.
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or None
