"""Rate limits of the credit API (core/throttles.py): payment codes and repayments per
customer, wrong merchant API keys per address; 429, Retry-After and the error envelope."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from core.throttles import SettingRateThrottle
from credit.models import Repayment
from credit.tests.apikit import customer_client, merchant_client, new_key, shop
from testkit.credit import open_account

pytestmark = pytest.mark.django_db
CODES = "/api/v1/account/payment-codes/"
REPAYMENTS = "/api/v1/repayments/"


def assert_throttled(response, *, within: int):
    assert response.status_code == 429
    assert response.json() == {
        "code": "throttled",
        "detail": f"Too many requests. Try again in {int(response['Retry-After'])} seconds.",
    }
    assert 1 <= int(response["Retry-After"]) <= within


def repay(api):
    return api.post(
        REPAYMENTS,
        {"amount": "10.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_payment_codes_are_limited_per_customer(settings):
    settings.THROTTLE_PAYMENT_CODES = "2/minute"
    api = customer_client(open_account(language="en").customer)
    other = customer_client(open_account(language="en").customer)
    assert [api.post(CODES).status_code for _ in range(2)] == [201, 201]

    assert_throttled(api.post(CODES, HTTP_ACCEPT_LANGUAGE="en"), within=60)
    assert other.post(CODES).status_code == 201


def test_repayments_are_limited_per_customer_and_reading_them_is_not(settings):
    settings.THROTTLE_REPAYMENTS = "2/hour"
    account = open_account(language="en")
    api = customer_client(account.customer)
    assert [repay(api).status_code for _ in range(2)] == [201, 201]

    assert_throttled(repay(api), within=3600)
    assert Repayment.objects.filter(account=account).count() == 2
    assert api.get(REPAYMENTS).status_code == 200


def test_the_limit_message_follows_the_language():
    # The default rate (10 a minute) reached, in Chinese.
    api = customer_client(open_account().customer)
    for _ in range(10):
        assert api.post(CODES).status_code == 201
    response = api.post(CODES, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    assert response.json()["detail"].startswith("请求过于频繁")


def test_wrong_api_keys_from_one_address_lock_out_even_the_right_key_until_the_window_ends(
    settings, monkeypatch
):
    settings.THROTTLE_FAILED_API_KEYS = "3/minute"
    _merchant, raw_key = shop()
    right = merchant_client(raw_key)
    missing = "/api/v1/merchant/purchases/999999/"  # 404 once authenticated
    assert right.get(missing).status_code == 404
    wrong = merchant_client(raw_key[:-1] + ("x" if raw_key[-1] != "x" else "y"))
    assert [wrong.get(missing).status_code for _ in range(3)] == [401, 401, 401]

    assert_throttled(right.get(missing, HTTP_ACCEPT_LANGUAGE="en"), within=60)
    # Another address is not concerned.
    assert right.get(missing, REMOTE_ADDR="10.0.0.9").status_code == 404

    real_timer = SettingRateThrottle.timer
    monkeypatch.setattr(SettingRateThrottle, "timer", staticmethod(lambda: real_timer() + 61))
    assert right.get(missing).status_code == 404


def test_the_invalid_api_key_message_is_translated():
    response = merchant_client("mk_nothing.at-all").get(
        "/api/v1/merchant/purchases/1/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "API 密钥无效。"


class _CacheDown:
    def get(self, *args, **kwargs):
        raise RedisConnectionError("Redis is down")

    set = get


def test_with_the_cache_down_the_money_path_goes_on_without_limits(settings, monkeypatch):
    settings.THROTTLE_REPAYMENTS = "1/hour"
    monkeypatch.setattr(SettingRateThrottle, "cache", _CacheDown())
    api = customer_client(open_account(language="en").customer)
    assert [repay(api).status_code for _ in range(3)] == [201, 201, 201]
