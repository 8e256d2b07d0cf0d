"""Money input is bounded everywhere (#13 Must 6): a repayment cannot exceed what is owed plus
the prepayment allowance, no amount can overflow a money column (API, portal, admin and
appeal forms), and a client's idempotency key can never take a key the system makes."""

from decimal import Decimal
from importlib import import_module

import pytest
from django import forms
from django.db import connection
from django.utils import timezone, translation

from appeals.kinds.restoration import RestorationAppeal
from credit.admin.operations import GrantForm, SetLimitForm
from credit.forms import CheckoutForm, RepayForm
from credit.models import CreditAccount, Purchase, Refund, Repayment
from credit.services import repayment_apply
from credit.services.amounts import MONEY_INPUT_MAX
from credit.services.errors import InternalIdempotencyKey, RepaymentExceedsOwed
from credit.services.idempotency import api_idempotency_key
from credit.tests.apikit import customer_client, merchant_client, new_key, shop
from testkit.credit import buy, open_account, repay, row_counts

pytestmark = pytest.mark.django_db
D = Decimal

EXTREME = [
    "1e12",
    "9999999999999.99",
    "999999999999.99",
    "1000000000.00",
    "1e400",
    "-1e400",
    "NaN",
    "sNaN",
    "Infinity",
    "-5.00",
    "0",
    "1.001",
    "0.000000000000000000001",
    "12" * 40,
    D("1e12"),
]


def post(api, url, data):
    return api.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=new_key())


# --- repayments: what is owed plus the prepayment allowance --------------------------------


def test_a_repayment_above_what_is_owed_plus_the_allowance_is_refused_naming_the_maximum(
    settings,
):
    settings.CREDIT_PREPAYMENT_ALLOWANCE = D("100.00")
    account = open_account("5000.00", language="en")
    buy(account, "300.00", term=1)  # one period, no fee: 300.00 owed
    before = row_counts()
    with pytest.raises(RepaymentExceedsOwed) as refused:
        repay(account, "400.01", now=timezone.now())
    assert refused.value.code == "repayment_exceeds_owed"
    assert refused.value.extra == {"maximum": "400.00"}
    assert "¥400.00" in str(refused.value.message)
    assert row_counts() == before
    repay(account, "400.00", now=timezone.now())
    account.refresh_from_db()
    assert (account.outstanding_principal, account.credit_balance) == (D("0.00"), D("100.00"))
    # The balance held counts against the allowance: nothing more can be paid in.
    with pytest.raises(RepaymentExceedsOwed) as again:
        repay(account, "0.01", now=timezone.now())
    assert again.value.extra == {"maximum": "0.00"}


def test_the_api_refuses_an_overpayment_with_400_and_the_maximum(settings):
    settings.CREDIT_PREPAYMENT_ALLOWANCE = D("100.00")
    account = open_account("5000.00", language="en")
    before = row_counts()
    response = post(customer_client(account.customer), "/api/v1/repayments/", {"amount": "100.01"})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["maximum"]) == (
        "repayment_exceeds_owed",
        "100.00",
    )
    assert row_counts() == before


def test_the_portal_shows_an_overpayment_as_a_form_error(client, settings):
    settings.CREDIT_PREPAYMENT_ALLOWANCE = D("100.00")
    account = open_account("5000.00", language="en")
    client.force_login(account.customer)
    before = row_counts()
    response = client.post("/credit/repay/", {"amount": "250.00", "idempotency_key": "k1"})
    assert response.status_code == 400
    assert "at most ¥100.00" in response.content.decode()
    assert row_counts() == before


def test_the_probers_huge_repayment_is_refused_and_the_next_one_still_works():
    account = open_account("5000.00", language="en")
    api = customer_client(account.customer)
    huge = post(api, "/api/v1/repayments/", {"amount": "999999999999.99"})
    assert (huge.status_code, huge.json()["code"]) == (400, "invalid_amount")
    buy(account, "100.00", term=1)
    assert post(api, "/api/v1/repayments/", {"amount": "100.00"}).status_code == 201


# --- no amount can overflow a column -------------------------------------------------------


@pytest.fixture
def shop_and_account():
    merchant, raw_key = shop()
    account = open_account("5000.00", language="en")
    purchase = buy(account, "100.00", term=1, merchant=merchant)
    return merchant, raw_key, account, purchase


@pytest.mark.parametrize("amount", EXTREME, ids=str)
def test_every_api_money_input_refuses_an_extreme_amount_with_400_and_writes_nothing(
    shop_and_account, amount
):
    merchant, raw_key, account, purchase = shop_and_account
    customer, shop_api = customer_client(account.customer), merchant_client(raw_key)
    code = post(customer, "/api/v1/account/payment-codes/", {}).json()["code"]
    amount = str(amount)
    before = row_counts()
    answers = [
        post(customer, "/api/v1/repayments/", {"amount": amount}),
        post(
            customer,
            "/api/v1/purchases/",
            {"merchant_id": merchant.pk, "amount": amount, "term": 3},
        ),
        customer.get("/api/v1/quotes/", {"amount": amount, "term": 3}),
        post(
            shop_api,
            "/api/v1/merchant/purchases/",
            {"payment_code": code, "amount": amount, "term": 3},
        ),
        post(shop_api, f"/api/v1/merchant/purchases/{purchase.pk}/refunds/", {"amount": amount}),
    ]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(400, "invalid_amount")] * 5
    assert row_counts() == before


@pytest.mark.parametrize("amount", ["1e12", "1e400", "Infinity", "NaN"])
def test_a_json_number_that_is_too_large_or_not_finite_is_refused(shop_and_account, amount):
    _merchant, _raw_key, account, _purchase = shop_and_account
    before = row_counts()
    response = customer_client(account.customer).post(
        "/api/v1/repayments/",
        f'{{"amount": {amount}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
    )
    assert response.status_code == 400
    assert row_counts() == before


def _portal_and_admin_fields() -> list[forms.Field]:
    return [
        RepayForm.base_fields["amount"],
        CheckoutForm.base_fields["amount"],
        SetLimitForm.base_fields["new_base_limit"],
        GrantForm.base_fields["amount"],
        RestorationAppeal.decision_fields["restore_to"],
    ]


@pytest.mark.parametrize("amount", [a for a in EXTREME if str(a) not in {"0", "-5.00"}], ids=str)
def test_every_portal_admin_and_appeal_money_field_refuses_an_extreme_amount(amount):
    for field in _portal_and_admin_fields():
        with pytest.raises(forms.ValidationError):
            field.clean(str(amount))


def test_the_largest_amount_anyone_may_enter_still_fits_a_column_a_thousand_times():
    for field in _portal_and_admin_fields():
        assert field.clean(str(MONEY_INPUT_MAX)) == MONEY_INPUT_MAX
        with pytest.raises(forms.ValidationError):
            field.clean(str(MONEY_INPUT_MAX + D("0.01")))
    assert len(str(int(MONEY_INPUT_MAX * 1000))) <= 12  # MoneyField: 14 digits, 2 places


# --- idempotency keys: the client's own namespace ------------------------------------------


def _next_purchase_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value, is_called FROM credit_purchase_id_seq")
        last, called = cursor.fetchone()
    return last + 1 if called else last


def test_a_client_key_equal_to_the_credit_balance_key_no_longer_breaks_the_next_purchase():
    merchant, _raw_key = shop()
    account = open_account("5000.00", language="en")
    buy(account, "50.00", term=1, merchant=merchant)
    api = customer_client(account.customer)
    trap = f"credit-balance:purchase:{_next_purchase_id() + 1}"
    paid = api.post(
        "/api/v1/repayments/", {"amount": "80.00"}, format="json", HTTP_IDEMPOTENCY_KEY=trap
    )
    assert paid.status_code == 201, paid.content  # 30.00 left as credit balance
    assert Repayment.objects.get(pk=paid.json()["id"]).idempotency_key == f"api:{trap}"
    buy(account, "1.00", term=1, merchant=merchant)  # the id the trap named, as the API does
    bought = post(
        api, "/api/v1/purchases/", {"merchant_id": merchant.pk, "amount": "100.00", "term": 1}
    )
    assert bought.status_code == 201, bought.content
    assert Repayment.objects.filter(account=account, channel="CREDIT_BALANCE").exists()


def test_a_client_key_equal_to_a_portal_or_payment_code_key_stays_the_clients_own():
    merchant, raw_key = shop()
    account = open_account("5000.00", language="en")
    api = customer_client(account.customer)
    code = post(api, "/api/v1/account/payment-codes/", {}).json()["code"]
    nonce = code.split(":")[1]
    bought = api.post(
        "/api/v1/purchases/",
        {"merchant_id": merchant.pk, "amount": "100.00", "term": 3},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"payment-code:{nonce}",
    )
    shop_bought = post(
        merchant_client(raw_key),
        "/api/v1/merchant/purchases/",
        {"payment_code": code, "amount": "100.00", "term": 3},
    )
    assert bought.status_code == shop_bought.status_code == 201
    assert bought.json()["id"] != shop_bought.json()["id"]
    api.post(
        "/api/v1/repayments/", {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="portal:p1"
    )
    repayment_apply(
        account=account, amount="10.00", idempotency_key="portal:p1", now=timezone.now()
    )
    assert Repayment.objects.filter(account=account).count() == 2


def test_a_long_client_key_is_hashed_inside_the_api_namespace():
    account = open_account("5000.00", language="en")
    key = "k" * 255
    response = customer_client(account.customer).post(
        "/api/v1/repayments/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    stored = Repayment.objects.get(pk=response.json()["id"]).idempotency_key
    assert stored.startswith("api:sha256:") and len(stored) <= 100


def test_the_services_refuse_a_key_in_the_credit_balance_namespace():
    account = open_account("5000.00", language="en")
    with pytest.raises(InternalIdempotencyKey):
        repayment_apply(
            account=account, amount="1.00", idempotency_key="credit-balance:x", now=timezone.now()
        )


def test_the_upgrade_moves_the_apis_earlier_keys_into_its_namespace_and_leaves_the_systems():
    merchant, _raw_key = shop()
    account = open_account("5000.00", language="en")
    purchase = buy(account, "500.00", term=1, merchant=merchant, idempotency_key="client-1")
    shop_purchase = buy(
        account, "10.00", term=1, merchant=merchant, idempotency_key="payment-code:n"
    )
    now = timezone.now()
    client_rows = {
        "short": "r-1",
        "long": "x" * 98,
        "hashed": "sha256:" + "a" * 64,
        "trap": "credit-balance:purchase:999",
        "taken": "dup",
    }
    made = {
        name: repay(account, "1.00", now=now, idempotency_key=k)
        for name, k in client_rows.items()
        if name != "trap"
    }
    made["trap"] = Repayment.objects.create(
        account=account, amount=D("1.00"), idempotency_key=client_rows["trap"], received_at=now
    )
    already = repay(account, "1.00", now=now, idempotency_key="api:dup")
    portal = repay(account, "1.00", now=now, idempotency_key="portal:abc")
    refund = Refund.objects.create(
        purchase=purchase,
        amount=D("1.00"),
        principal_reduced=D("1.00"),
        idempotency_key="rf",
        created_at=now,
    )
    migration = import_module("credit.migrations.0018_client_idempotency_keys_in_api_namespace")
    with connection.cursor() as cursor:
        for operation in migration.Migration.operations:
            cursor.execute(operation.sql)
    key = lambda row: type(row).objects.get(pk=row.pk).idempotency_key  # noqa: E731
    assert key(made["short"]) == "api:r-1"
    assert key(made["long"]) == api_idempotency_key("x" * 98)
    assert key(made["hashed"]) == "api:sha256:" + "a" * 64
    assert key(made["trap"]) == "api:credit-balance:purchase:999"
    assert key(made["taken"]) == "dup"  # "api:dup" was taken: left alone, the upgrade goes on
    assert key(already) == "api:api:dup"
    assert key(portal) == "portal:abc"
    assert (key(purchase), key(shop_purchase)) == ("api:client-1", "payment-code:n")
    assert key(refund) == "api:rf"
    # A retry straddling the upgrade finds its repayment.
    again = repayment_apply(account=account, amount="1.00", idempotency_key="api:r-1", now=now)
    assert again.pk == made["short"].pk
    assert CreditAccount.objects.get(pk=account.pk).repayments.count() == 7
    assert Purchase.objects.filter(account=account).count() == 2


def test_the_overpayment_message_is_translated():
    with translation.override("zh-hans"):
        assert "最多 ¥12.00" in RepaymentExceedsOwed(maximum=D("12.00")).message
