"""Merchant purchases: a retry gets its first answer whatever happened to the payment code
since, and a refusal tells the merchant why without the customer's figures."""

from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from credit.apis.merchant_refusals import MERCHANT_MESSAGES
from credit.models import CreditAccount, Purchase
from credit.risk.tests.test_verification import asked_to_verify
from credit.services import account_freeze
from credit.tests.apikit import account_in_state, customer_client, merchant_client, new_key, shop
from testkit.credit import open_account, row_counts

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def keyed():
    return shop("商户乙")


def payment_code(account) -> str:
    return customer_client(account.customer).post("/api/v1/account/payment-codes/").json()["code"]


def authorize(api, code, amount="100.00", key=None):
    return api.post(
        "/api/v1/merchant/purchases/",
        {"payment_code": code, "amount": amount, "term": 3},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or new_key(),
    )


def test_a_retry_after_the_payment_code_expired_returns_the_first_answer(keyed):
    _merchant, raw_key = keyed
    account = open_account("5000.00", language="en")
    api = merchant_client(raw_key)
    code, key = payment_code(account), new_key()
    first = authorize(api, code, key=key)
    assert first.status_code == 201, first.content
    with override_settings(CREDIT_PAYMENT_CODE_TTL_SECONDS=-1):  # the code has expired
        again = authorize(api, code, key=key)
        other_key = authorize(api, code)
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    # A new key is a new request: the expired code is refused as before.
    assert (other_key.status_code, other_key.json()["code"]) == (400, "payment_code_invalid")
    assert Purchase.objects.count() == 1


def test_a_retry_after_the_account_was_frozen_returns_the_first_answer(keyed):
    _merchant, raw_key = keyed
    account = open_account("5000.00", language="en")
    api = merchant_client(raw_key)
    code, key = payment_code(account), new_key()
    first = authorize(api, code, key=key)
    account_freeze(account=account, reason="RISK_RULE", now=timezone.now())
    again = authorize(api, code, key=key)
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Idempotent-Replayed"] == "true"


def test_a_retry_with_the_same_key_and_another_body_is_still_refused(keyed):
    _merchant, raw_key = keyed
    account = open_account("5000.00", language="en")
    api = merchant_client(raw_key)
    code, key = payment_code(account), new_key()
    assert authorize(api, code, key=key).status_code == 201
    with override_settings(CREDIT_PAYMENT_CODE_TTL_SECONDS=-1):
        other = authorize(api, code, "100.01", key=key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


def _merchant_refusal(raw_key, account, amount="100.00"):
    before = row_counts()
    response = authorize(merchant_client(raw_key), payment_code(account), amount)
    assert row_counts() == before
    return response


def _in(language: str, message) -> str:
    with translation.override(language):
        return str(message)


def _is_merchant_message(body: dict) -> bool:
    """The merchant's wording of this refusal, in whichever language the answer is in."""
    message = MERCHANT_MESSAGES[body["code"]]
    return body["detail"] in {_in("en", message), _in("zh-hans", message)}


def _assert_no_customer_figures(body: dict, account: CreditAccount) -> None:
    assert set(body) == {"code", "detail"}, body
    account.refresh_from_db()
    figures = {account.available, account.base_limit, account.outstanding_principal}
    for figure in figures:
        assert str(figure) not in body["detail"]
        assert f"{figure:,}" not in body["detail"]
    assert "¥" not in body["detail"]


def test_insufficient_credit_tells_the_merchant_why_but_not_the_customers_available_credit(
    keyed,
):
    _merchant, raw_key = keyed
    account = open_account("300.00", language="en")
    response = _merchant_refusal(raw_key, account, "400.00")
    body = response.json()
    assert (response.status_code, body["code"]) == (409, "insufficient_credit")
    assert _is_merchant_message(body)
    _assert_no_customer_figures(body, account)
    # The customer's own API keeps the detailed answer.
    own = customer_client(account.customer).post(
        "/api/v1/purchases/",
        {"merchant_id": _merchant.pk, "amount": "400.00", "term": 3},
        format="json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
    )
    assert (own.json()["code"], own.json()["available"]) == ("insufficient_credit", "300.00")


@pytest.mark.parametrize(
    ("state", "code"),
    [("FROZEN", "account_frozen"), ("NEGATIVE", "account_negative")],
)
def test_an_account_that_cannot_buy_is_named_to_the_merchant_without_its_figures(
    keyed, state, code
):
    merchant, raw_key = keyed
    account = account_in_state(state, merchant=merchant)
    response = _merchant_refusal(raw_key, account)
    body = response.json()
    assert (response.status_code, body["code"]) == (409, code)
    assert _is_merchant_message(body)
    _assert_no_customer_figures(body, account)


def test_verification_required_does_not_reveal_the_customers_purchase_maximum(keyed, now):
    _merchant, raw_key = keyed
    (account, _other), _codes = asked_to_verify(now=now)  # may buy up to 500.00 meanwhile
    response = _merchant_refusal(raw_key, account, "800.00")
    body = response.json()
    assert (response.status_code, body["code"]) == (403, "verification_required")
    assert "purchase_max" not in body
    assert "500" not in body["detail"]
    _assert_no_customer_figures(body, account)


def test_a_refusal_about_the_merchants_own_request_keeps_its_details(keyed):
    _merchant, raw_key = keyed
    account = open_account("5000.00", language="en")
    response = _merchant_refusal(raw_key, account, "0.02")  # three installments need 0.03
    body = response.json()
    assert (body["code"], body["minimum"], body["term"]) == ("amount_too_small_for_term", "0.03", 3)


def test_every_merchant_message_has_a_chinese_translation():
    english = {code: _in("en", message) for code, message in MERCHANT_MESSAGES.items()}
    chinese = {code: _in("zh-hans", message) for code, message in MERCHANT_MESSAGES.items()}
    assert all(chinese[code] != english[code] and "顾客" in chinese[code] for code in english)
