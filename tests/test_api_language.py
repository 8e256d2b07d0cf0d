"""One language rule for every API — customer, merchant and appeals (issue #13, Must 5):
an explicit Accept-Language header wins, then the signed-in customer's preferred language,
then the default (zh-hans). The language cookie does not count."""

import pytest
from django.conf import settings

from credit.tests.apikit import customer_client, merchant_client, shop
from testkit.credit import open_account

pytestmark = pytest.mark.django_db

# A refusal of each API and its message in each language.
CUSTOMER_404 = "/api/v1/purchases/99999999/"
MERCHANT_404 = "/api/v1/merchant/purchases/99999999/"
APPEALS_400 = "/api/v1/appeals/?limit=abc"
CUSTOMER_PAGE_400 = "/api/v1/purchases/?limit=abc"
NOT_FOUND = {"en": "Not found.", "zh-hans": "未找到。"}
NOT_PROVIDED = {
    "en": "Authentication credentials were not provided.",
    "zh-hans": "身份认证信息未提供。",
}
WHOLE_NUMBER = {"en": "Must be a whole number from 1.", "zh-hans": "必须是不小于 1 的整数。"}


def detail(response):
    body = response.json()
    return body["errors"]["limit"][0] if "errors" in body else body["detail"]


def customer_api(language):
    return customer_client(open_account("1000.00", language=language).customer)


@pytest.mark.parametrize("preferred", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("url", "messages"), [(CUSTOMER_404, NOT_FOUND), (APPEALS_400, WHOLE_NUMBER)]
)
def test_without_a_header_the_customer_apis_answer_in_the_customers_language(
    preferred, url, messages
):
    assert detail(customer_api(preferred).get(url)) == messages[preferred]


@pytest.mark.parametrize(("preferred", "header"), [("en", "zh-hans"), ("zh-hans", "en")])
@pytest.mark.parametrize(
    ("url", "messages"),
    [(CUSTOMER_404, NOT_FOUND), (CUSTOMER_PAGE_400, WHOLE_NUMBER), (APPEALS_400, WHOLE_NUMBER)],
)
def test_an_explicit_accept_language_wins_over_the_preference(preferred, header, url, messages):
    response = customer_api(preferred).get(url, HTTP_ACCEPT_LANGUAGE=f"{header},fr;q=0.5")
    assert detail(response) == messages[header]


def test_the_language_cookie_does_not_count_and_an_unsupported_header_falls_through():
    api = customer_api("en")
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert detail(api.get(CUSTOMER_404)) == NOT_FOUND["en"]
    assert detail(api.get(CUSTOMER_404, HTTP_ACCEPT_LANGUAGE="fr, *")) == NOT_FOUND["en"]
    assert detail(api.get(CUSTOMER_404, HTTP_ACCEPT_LANGUAGE="zh-CN")) == NOT_FOUND["zh-hans"]


@pytest.mark.parametrize(
    ("header", "language"), [(None, "zh-hans"), ("en-US", "en"), ("zh", "zh-hans")]
)
def test_the_merchant_api_follows_the_header_else_the_default(header, language):
    _merchant, raw_key = shop()
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    response = merchant_client(raw_key).get(MERCHANT_404, **extra)
    assert detail(response) == NOT_FOUND[language]


@pytest.mark.parametrize(("header", "language"), [(None, "zh-hans"), ("en", "en")])
def test_a_refusal_before_authentication_follows_the_header_else_the_default(
    client, header, language
):
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    response = client.get(MERCHANT_404, **extra)
    assert response.status_code == 401
    assert response.json()["detail"] == NOT_PROVIDED[language]


@pytest.mark.parametrize(("header", "language"), [(None, "zh-hans"), ("en", "en")])
def test_an_unknown_api_path_follows_the_header_else_the_default(client, header, language):
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    assert client.get("/api/v1/nowhere/", **extra).json()["detail"] == NOT_FOUND[language]


@pytest.mark.parametrize(("header", "language"), [("en", "en"), ("zh-hans", "zh-hans")])
def test_the_token_api_follows_the_same_rule_not_the_cookie(client, header, language):
    other = "zh-hans" if language == "en" else "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = other
    response = client.post("/api/v1/auth/token/revoke/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 401
    assert response.json()["detail"] == NOT_PROVIDED[language]
