"""Merchant API: API-key auth, authorising with a customer's payment code, refunds."""

from decimal import Decimal

import pytest
from django.test import override_settings

from credit.models import Merchant, Purchase, Refund
from credit.services.merchants import merchant_authenticate, merchant_key_rotate
from credit.tests.apikit import customer_client, merchant_client, new_key, shop
from testkit.credit import buy, open_account, row_counts

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def keyed():
    return shop("商户甲")


@pytest.fixture
def account():
    return open_account("5000.00", language="en")


def payment_code(account) -> str:
    response = customer_client(account.customer).post("/api/v1/account/payment-codes/")
    return response.json()["code"]


def authorize(api, code, amount="100.00", term=3, key=None, **extra):
    return api.post(
        "/api/v1/merchant/purchases/",
        {"payment_code": code, "amount": amount, "term": term, **extra},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or new_key(),
    )


def refund(api, purchase_id, amount, key=None):
    return api.post(
        f"/api/v1/merchant/purchases/{purchase_id}/refunds/",
        {"amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or new_key(),
    )


def test_the_api_key_is_stored_only_as_a_hash_and_authenticates_its_merchant(keyed):
    merchant, raw_key = keyed
    stored = Merchant.objects.get(pk=merchant.pk)
    assert raw_key not in (stored.api_key_hash, stored.api_key_prefix)
    assert raw_key.startswith(stored.api_key_prefix + ".")
    assert merchant_authenticate(raw_key) == merchant
    assert merchant_authenticate(raw_key + "x") is None
    assert merchant_authenticate("nonsense") is None


def test_a_rotated_key_replaces_the_old_one_at_once(keyed):
    merchant, old_key = keyed
    new = merchant_key_rotate(merchant=merchant)
    assert merchant_authenticate(old_key) is None
    assert merchant_authenticate(new) == merchant


def test_a_wrong_or_missing_key_is_refused_and_an_inactive_merchant_cannot_call(keyed, account):
    merchant, raw_key = keyed
    code = payment_code(account)
    assert authorize(merchant_client(raw_key[:-1] + "?"), code).status_code == 401
    assert authorize(merchant_client("mk_nothing.at-all"), code).status_code == 401
    from rest_framework.test import APIClient

    assert authorize(APIClient(), code).status_code in (401, 403)
    Merchant.objects.filter(pk=merchant.pk).update(is_active=False)
    assert authorize(merchant_client(raw_key), code).status_code == 401
    assert Purchase.objects.count() == 0


def test_a_merchant_authorises_a_purchase_with_the_customers_payment_code(keyed, account):
    merchant, raw_key = keyed
    response = authorize(merchant_client(raw_key), payment_code(account), "600.00", 6)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["term_months"]) == ("600.00", 6)
    assert D(body["annual_rate"]) > 0
    assert "available" not in body  # a merchant learns nothing about the customer's limit
    purchase = Purchase.objects.get(pk=body["id"])
    assert (purchase.account, purchase.merchant) == (account, merchant)
    assert purchase.plan.installments.count() == 6


def test_one_payment_code_pays_for_at_most_one_purchase(keyed, account):
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    code = payment_code(account)
    first = authorize(api, code, "100.00")
    same = authorize(api, code, "100.00")  # another key, same code and amount
    other = authorize(api, code, "250.00")
    assert first.status_code == same.status_code == 201
    assert first.json()["id"] == same.json()["id"]
    assert (other.status_code, other.json()["code"]) == (409, "payment_code_used")
    assert Purchase.objects.count() == 1


def test_a_forged_or_expired_payment_code_is_refused_and_nothing_is_written(keyed, account):
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    code = payment_code(account)
    before = row_counts()
    forged = code.replace(code.split(":")[0], str(account.pk + 1), 1)
    response = authorize(api, forged)
    assert (response.status_code, response.json()["code"]) == (400, "payment_code_invalid")
    with override_settings(CREDIT_PAYMENT_CODE_TTL_SECONDS=-1):
        response = authorize(api, code)
    assert (response.status_code, response.json()["code"]) == (400, "payment_code_invalid")
    assert row_counts() == before


def test_a_purchase_above_the_merchants_single_purchase_maximum_is_refused(keyed, account):
    merchant, raw_key = keyed
    Merchant.objects.filter(pk=merchant.pk).update(single_purchase_max=D("500.00"))
    before = row_counts()
    response = authorize(merchant_client(raw_key), payment_code(account), "500.01")
    assert (response.status_code, response.json()["code"]) == (
        400,
        "amount_above_single_purchase_maximum",
    )
    assert row_counts() == before


def test_a_partial_refund_reduces_principal_from_the_last_installment_and_waives_its_fees(
    keyed, account
):
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    purchase_id = authorize(api, payment_code(account), "300.00", 3).json()["id"]
    response = refund(api, purchase_id, "100.00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["principal_reduced"] == "100.00"
    assert D(body["fees_waived"]) > 0
    assert body["credit_balance_added"] == "0.00"
    purchase = Purchase.objects.get(pk=purchase_id)
    last = purchase.plan.installments.get(sequence=3)
    assert last.principal_refunded == D("100.00")
    assert purchase.status == "PARTIALLY_REFUNDED"
    detail = api.get(f"/api/v1/merchant/purchases/{purchase_id}/").json()
    assert detail["refunded_amount"] == "100.00"


def test_a_refund_of_what_the_customer_already_repaid_comes_back_as_credit_balance(keyed, account):
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    purchase_id = authorize(api, payment_code(account), "90.00", 1).json()["id"]
    customer_client(account.customer).post(
        "/api/v1/repayments/", {"amount": "90.00"}, format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    body = refund(api, purchase_id, "90.00").json()
    assert body["credit_balance_added"] == "90.00"
    account.refresh_from_db()
    assert account.credit_balance == D("90.00")


def test_a_refund_above_what_is_left_of_the_purchase_is_refused_and_nothing_is_written(
    keyed, account
):
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    purchase_id = authorize(api, payment_code(account), "100.00").json()["id"]
    assert refund(api, purchase_id, "60.00").status_code == 201
    before = row_counts()
    response = refund(api, purchase_id, "40.01")
    assert (response.status_code, response.json()["code"]) == (400, "refund_above_purchase")
    assert response.json()["refundable"] == "40.00"
    for amount in ("0", "-1", "1.001"):
        assert refund(api, purchase_id, amount).json()["code"] == "invalid_amount"
    assert row_counts() == before


def test_a_merchant_cannot_see_or_refund_another_merchants_purchase(keyed, account):
    other_merchant, _other_key = shop("商户乙")
    purchase = buy(account, "100.00", merchant=other_merchant)
    _merchant, raw_key = keyed
    api = merchant_client(raw_key)
    before = row_counts()
    assert api.get(f"/api/v1/merchant/purchases/{purchase.pk}/").status_code == 404
    response = refund(api, purchase.pk, "10.00")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert row_counts() == before
    assert Refund.objects.count() == 0


def test_merchant_keys_do_not_open_customer_endpoints_nor_tokens_merchant_ones(keyed, account):
    _merchant, raw_key = keyed
    assert merchant_client(raw_key).get("/api/v1/account/").status_code in (401, 403)
    response = customer_client(account.customer).post(
        "/api/v1/merchant/purchases/", {}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code in (401, 403)
