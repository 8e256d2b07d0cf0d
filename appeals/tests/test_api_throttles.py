"""Appeals created through the API are rate-limited per customer (core/throttles.py)."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tests.factories import customer

pytestmark = pytest.mark.django_db
BASE = "/api/v1/appeals/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client


def test_creating_appeals_is_limited_per_customer_and_listing_them_is_not(settings):
    settings.THROTTLE_APPEALS = "2/hour"
    api, other = api_for(customer()), api_for(customer())
    # Refused attempts count too: the limit is on tries, the service limits new appeals.
    for _ in range(2):
        assert api.post(BASE, {"kind": "nonsense"}, format="json").status_code == 400

    refused = api.post(BASE, {"kind": "nonsense"}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert set(refused.json()) == {"code", "detail"}
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert api.get(BASE).status_code == 200
    assert other.post(BASE, {"kind": "nonsense"}, format="json").status_code == 400
