"""Liveness and readiness probes for load balancers and orchestrators."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection


def healthz(request):
    """The process is alive and can answer; dependencies are not checked."""
    return HttpResponse("ok", content_type="text/plain")


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None


def _broker_ok() -> str | None:
    # A fresh connection from the settings, not the Celery app's pool: a pooled connection
    # can look alive after the broker went away.
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@never_cache
def readyz(request):
    """200 when the database and the Celery broker answer; 503 naming what failed."""
    failures = {
        name: err for name, err in (("database", _database_ok()), ("broker", _broker_ok())) if err
    }
    checks = {name: ("fail" if name in failures else "ok") for name in ("database", "broker")}
    if failures:
        return JsonResponse(
            {
                "status": "unavailable",
                "checks": checks,
                "failed": sorted(failures),
                "errors": failures,
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": checks})
