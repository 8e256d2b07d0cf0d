"""Platform pieces: health probes and a real Celery round trip through Redis."""

import pytest

from accounts.tasks import ping


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_readyz_reports_database_and_broker_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_the_broker_is_down(client, settings):
    # A port nothing listens on: the broker is unreachable.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "fail"}
    assert "broker" in body["errors"]


@pytest.mark.worker
def test_a_ping_task_makes_the_round_trip_through_redis_and_a_real_worker(celery_worker_process):
    from celery.result import AsyncResult  # noqa: F401 - results travel back through Redis

    result = ping.apply_async(kwargs={"payload": "hello"})
    assert result.get(timeout=30) == "hello"
