"""The OpenAPI schema and the Swagger UI, served from local static files (no CDN)."""

import pytest
from django.core.management import call_command


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yaml"))


@pytest.mark.django_db
def test_the_schema_documents_the_customer_and_merchant_operations(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/account/",
        "/api/v1/account/limit-changes/",
        "/api/v1/quotes/",
        "/api/v1/purchases/",
        "/api/v1/plans/{id}/payoff/",
        "/api/v1/repayments/",
        "/api/v1/merchant/purchases/",
        "/api/v1/merchant/purchases/{id}/refunds/",
    ):
        assert path in paths, path
    post = paths["/api/v1/purchases/"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in post["parameters"])
    schemes = schema["components"]["securitySchemes"]
    assert {"tokenAuth", "merchantApiKey"} <= set(schemes)


@pytest.mark.django_db
def test_swagger_ui_loads_its_assets_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
