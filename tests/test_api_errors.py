"""Every /api/ answer that is not a success is JSON `{code, detail}` (issue #13, Must 5):
unknown paths and ids, unreadable bodies, pagination out of range, 405/406/415, 500, and 503
when the database or the broker is unreachable wherever that is noticed."""

import kombu.exceptions
import pytest
from django import db
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config.api_errors import RETRY_AFTER_SECONDS
from config.api_pagination import ApiPagination
from credit.tests.apikit import customer_client, merchant_client, new_key, shop
from testkit.credit import buy, open_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return open_account("10000.00", language="en")


@pytest.fixture
def api(account):
    return customer_client(account.customer)


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- 404 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/nothing-here/", "/api/nothing", "/api/v1/purchases/abc/", "/api/v2/"]
)
def test_an_unknown_api_path_is_a_json_404(client, url):
    assert_envelope(client.get(url, HTTP_ACCEPT_LANGUAGE="en"), 404, "not_found")


def test_an_unknown_page_outside_the_api_keeps_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_or_foreign_id_is_a_json_404(api):
    other = open_account("1000.00")
    foreign = buy(other, "100.00")
    for url in ("/api/v1/purchases/99999999/", f"/api/v1/purchases/{foreign.pk}/"):
        assert_envelope(api.get(url), 404, "not_found")
    _merchant, raw_key = shop()
    assert_envelope(
        merchant_client(raw_key).get(f"/api/v1/merchant/purchases/{foreign.pk}/"), 404, "not_found"
    )


# --- 405 / 406 / 415 ---------------------------------------------------------------------------


def test_wrong_method_media_type_and_accept_are_in_the_envelope(api):
    assert_envelope(api.delete("/api/v1/account/"), 405, "method_not_allowed")
    assert_envelope(api.get("/api/v1/account/", HTTP_ACCEPT="text/csv"), 406, "not_acceptable")
    response = api.post(
        "/api/v1/repayments/",
        b"<amount>1</amount>",
        content_type="application/xml",
        HTTP_IDEMPOTENCY_KEY=new_key(),
    )
    assert_envelope(response, 415, "unsupported_media_type")


# --- parse errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "could not be read"), ("zh-hans", "无法读取")],
)
@pytest.mark.parametrize("url", ["/api/v1/repayments/", "/api/v1/appeals/"])
def test_a_body_that_is_not_json_is_a_translated_400_without_internals(
    api, url, language, expected
):
    response = api.post(
        url,
        b"{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    body = assert_envelope(response, 400, "parse_error")
    assert expected in body["detail"]
    for internal in ("char 0", "Expecting", "JSON parse error", "line 1"):
        assert internal not in body["detail"]


# --- pagination ----------------------------------------------------------------------------


LISTS = [
    "/api/v1/purchases/",
    "/api/v1/plans/",
    "/api/v1/installments/",
    "/api/v1/repayments/",
    "/api/v1/account/limit-changes/",
    "/api/v1/account/history/",
    "/api/v1/appeals/",
]


OUT_OF_RANGE = [
    "limit=9223372036854775808",
    "limit=99999999999999999999999",
    "limit=abc",
    "limit=-1",
    "limit=0",
    "offset=-5",
    "offset=9223372036854775808",
    "offset=x",
]


@pytest.mark.parametrize("url", LISTS)
def test_an_out_of_range_limit_or_offset_is_a_400_never_a_500(api, url):
    for query in OUT_OF_RANGE:
        body = assert_envelope(api.get(f"{url}?{query}"), 400, "invalid_input")
        assert query.split("=")[0] in body["errors"], query


@pytest.mark.parametrize("url", LISTS)
def test_every_list_is_the_paginated_object(api, url):
    response = api.get(url)
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_a_limit_above_the_maximum_page_size_is_clamped(api, account, settings):
    settings.API_MAX_PAGE_SIZE = 2
    for _ in range(3):
        buy(account, "10.00")
    body = api.get("/api/v1/purchases/?limit=1000").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "limit=2" in body["next"]
    assert len(api.get("/api/v1/purchases/?limit=1").json()["results"]) == 1


def test_the_maximum_page_size_defaults_to_200(settings):
    assert settings.API_MAX_PAGE_SIZE == 200
    assert ApiPagination().max_limit == 200


# --- 500 and 503 ---------------------------------------------------------------------------


def _raise(exc):
    def view(request):
        raise exc

    return view


@api_view(["GET"])
@permission_classes([AllowAny])
def _drf_broker_down(request):
    raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379")


class _DatabaseDownMiddleware:
    """Stands for a middleware that reads the session or the user from a dead database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.endswith("/middleware-db-down/"):
            raise db.OperationalError("connection refused")
        return self.get_response(request)


urlpatterns = [
    path("api/v1/boom/", _raise(RuntimeError("secret internals"))),
    path("boom/", _raise(RuntimeError("secret internals"))),
    path("api/v1/db-down/", _raise(db.OperationalError("connection refused"))),
    path("api/v1/db-gone/", _raise(db.InterfaceError("connection already closed"))),
    path("db-down/", _raise(db.OperationalError("connection refused"))),
    path("api/v1/broker-down/", _drf_broker_down),
    path("api/v1/middleware-db-down/", lambda request: HttpResponse("unreachable")),
    path("", include("config.urls")),
]
handler404 = "config.api_errors.handler404"
handler500 = "config.api_errors.handler500"


@pytest.fixture
def raw_client():
    return Client(raise_request_exception=False)


@override_settings(ROOT_URLCONF=__name__)
def test_an_unexpected_error_under_api_is_a_json_500_without_internals(raw_client):
    body = assert_envelope(raw_client.get("/api/v1/boom/"), 500, "server_error")
    assert "secret" not in body["detail"]
    html = raw_client.get("/boom/")
    assert html.status_code == 500
    assert html["Content-Type"].startswith("text/html")


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/api/v1/db-down/", "/api/v1/db-gone/", "/api/v1/broker-down/"])
def test_an_unreachable_database_or_broker_is_a_json_503_with_retry_after(raw_client, url):
    response = raw_client.get(url)
    assert_envelope(response, 503, "service_unavailable")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@override_settings(ROOT_URLCONF=__name__)
def test_an_unreachable_database_outside_the_api_is_an_html_503(raw_client):
    response = raw_client.get("/db-down/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_an_unreachable_database_noticed_inside_a_middleware_is_a_503(raw_client, settings):
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}._DatabaseDownMiddleware"]
    response = raw_client.get("/api/v1/middleware-db-down/")
    assert_envelope(response, 503, "service_unavailable")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@override_settings(ROOT_URLCONF=__name__, DEBUG=True)
def test_the_503_holds_under_debug_too(raw_client):
    assert_envelope(raw_client.get("/api/v1/db-down/"), 503, "service_unavailable")


@override_settings(DEBUG=True)
def test_an_unknown_api_path_is_a_json_404_under_debug_too(client):
    assert_envelope(client.get("/api/v1/nothing-here/"), 404, "not_found")
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")
