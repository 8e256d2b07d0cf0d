"""Customer API: my account, limit history, quotes, purchases, plans, installments, repayments."""

from decimal import Decimal

import pytest
from django.utils import timezone

from credit.models import (
    AccountStatus,
    Installment,
    JournalEntry,
    JournalLine,
    LimitChange,
    Purchase,
    Repayment,
)
from credit.pricing import annualised_rate
from credit.tests.apikit import account_in_state, customer_client, new_key, shop
from testkit.credit import buy, open_account, row_counts

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def merchant():
    return shop()[0]


@pytest.fixture
def account():
    return open_account("10000.00", language="en")


@pytest.fixture
def api(account):
    return customer_client(account.customer)


def post(api, url, data=None, key=None):
    return api.post(url, data or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or new_key())


def test_my_account_shows_limits_available_and_a_status_the_customer_can_act_on(api, account):
    response = api.get("/api/v1/account/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == account.pk
    assert body["effective_limit"] == "10000.00"
    assert body["available"] == "10000.00"
    assert body["status"]["code"] == "ACTIVE"
    assert body["status"]["can_purchase"] is True
    assert body["status"]["actions"]
    assert "10,000.00" in body["available_explained"]


def test_a_negative_available_is_explained_in_words_with_the_reason_for_the_cut(merchant):
    account = account_in_state("NEGATIVE", merchant=merchant)
    account.customer.preferred_language = "en"
    account.customer.save()
    body = customer_client(account.customer).get("/api/v1/account/").json()
    assert body["available"] == "-1000.00"
    assert body["status"]["code"] == "NEGATIVE"
    assert body["status"]["can_purchase"] is False
    assert "Our regular review of your account" in body["status"]["reasons"]
    assert "1,000.00 more than your current limit" in body["available_explained"]
    assert any("¥1,000.00" in action for action in body["status"]["actions"])


def test_a_customer_without_a_credit_line_is_told_so(db):
    from accounts.tests.factories import customer

    response = customer_client(customer()).get("/api/v1/account/")
    assert response.status_code == 404
    assert response.json()["code"] == "no_credit_account"


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/v1/account/").status_code in (401, 403)


def test_limit_history_lists_every_change_newest_first_with_reasons(api, account):
    from credit.services import limit_set

    limit_set(
        account=account,
        new_base_limit=D("8000.00"),
        kind="RESCORE",
        reason_codes=["RESCORE", "LATE_REPAYMENTS"],
        now=timezone.now(),
    )
    body = api.get("/api/v1/account/limit-changes/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert (first["old_effective_limit"], first["new_effective_limit"]) == ("10000.00", "8000.00")
    assert first["is_decrease"] is True
    assert first["reasons"] == ["Our regular review of your account", "Recent repayments were late"]
    assert body["results"][1]["kind"] == "ACCOUNT_OPEN"


def test_quotes_cover_every_offered_term_with_schedule_and_annualised_rate(api):
    response = api.get("/api/v1/quotes/", {"amount": "1200.00"})
    assert response.status_code == 200
    quotes = response.json()
    assert [q["term_months"] for q in quotes] == [1, 3, 6, 9, 12, 24]
    free = quotes[0]
    assert (free["total_fee"], free["annual_rate"]) == ("0.00", "0.000000")
    for quote in quotes:
        periods = quote["periods"]
        assert len(periods) == quote["term_months"]
        assert sum(D(p["principal"]) for p in periods) == D("1200.00")
        assert sum(D(p["fee"]) for p in periods) == D(quote["total_fee"])
    six = quotes[2]
    assert D(six["annual_rate"]) > 0
    assert six["annual_rate_percent"] == str((D(six["annual_rate"]) * 100).quantize(D("0.01")))


def test_a_quote_for_one_term_matches_an_independent_irr(api):
    quote = api.get("/api/v1/quotes/", {"amount": "3000", "term": 12}).json()[0]
    start = timezone.localdate()
    from datetime import date

    flows = [(date.fromisoformat(p["due_date"]), D(p["total"])) for p in quote["periods"]]
    assert D(quote["annual_rate"]) == annualised_rate(start, D("3000.00"), flows)
    assert D(quote["annual_rate"]) < D("0.24")


def test_authorising_a_purchase_splits_it_into_a_plan_and_posts_balanced_entries(
    api, account, merchant
):
    response = post(
        api,
        "/api/v1/purchases/",
        {"merchant_id": merchant.pk, "amount": "999.99", "term": 3, "description": "耳机"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "999.99"
    assert body["merchant"] == {"id": merchant.pk, "name": merchant.name}
    installments = body["plan"]["installments"]
    assert [i["principal"] for i in installments] == ["333.33", "333.33", "333.33"]
    purchase = Purchase.objects.get(pk=body["id"])
    assert purchase.account == account
    account.refresh_from_db()
    assert account.outstanding_principal == D("999.99")
    for entry in JournalEntry.objects.filter(reference=f"purchase:{purchase.pk}"):
        lines = JournalLine.objects.filter(entry=entry)
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) > 0


def test_a_json_number_amount_is_read_exactly_not_as_a_float(api, merchant):
    response = post(
        api, "/api/v1/purchases/", {"merchant_id": merchant.pk, "amount": 0.1, "term": 1}
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "0.10"


BAD_PURCHASES = [
    ({"amount": "0"}, "invalid_amount", 400),
    ({"amount": "-5.00"}, "invalid_amount", 400),
    ({"amount": "10.001"}, "invalid_amount", 400),
    ({"amount": 10.001}, "invalid_amount", 400),
    ({"amount": "ten"}, "invalid_amount", 400),
    ({"amount": "NaN"}, "invalid_amount", 400),
    ({"amount": "50000.01"}, "amount_above_single_purchase_maximum", 400),
    ({"term": 7}, "unknown_term", 400),
    ({"term": "six"}, "unknown_term", 400),
    ({"term": 6.5}, "unknown_term", 400),
    ({"amount": "10000.01"}, "insufficient_credit", 409),
]


@pytest.mark.parametrize(("change", "code", "status"), BAD_PURCHASES)
def test_a_bad_purchase_is_refused_with_a_stable_code_and_nothing_is_written(
    api, merchant, change, code, status
):
    before = row_counts()
    data = {"merchant_id": merchant.pk, "amount": "100.00", "term": 3, **change}
    response = post(api, "/api/v1/purchases/", data)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ("FROZEN", "account_frozen"),
        ("NEGATIVE", "account_negative"),
        ("CLOSED", "account_closed"),
    ],
)
def test_a_purchase_on_an_account_that_cannot_buy_is_refused_and_nothing_is_written(
    merchant, state, code
):
    account = account_in_state(state, merchant=merchant)
    api = customer_client(account.customer)
    before = row_counts()
    response = post(
        api, "/api/v1/purchases/", {"merchant_id": merchant.pk, "amount": "10.00", "term": 1}
    )
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert row_counts() == before


def test_an_unknown_merchant_is_not_found_and_nothing_is_written(api):
    before = row_counts()
    response = post(api, "/api/v1/purchases/", {"merchant_id": 999999, "amount": "1", "term": 1})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert row_counts() == before


def test_refusals_speak_the_customers_language(merchant):
    zh = open_account("100.00", language="zh-hans")
    response = customer_client(zh.customer).get("/api/v1/purchases/999999/")
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到。"
    en = open_account("100.00", language="en")
    response = customer_client(en.customer).get("/api/v1/purchases/999999/")
    assert response.json()["detail"] == "Not found."
    response = post(
        customer_client(en.customer),
        "/api/v1/purchases/",
        {"merchant_id": merchant.pk, "amount": "500.00", "term": 1},
    )
    assert response.json()["detail"] == "This purchase is more than your available credit."


def test_a_missing_idempotency_key_is_refused_before_anything_happens(api, merchant):
    before = row_counts()
    response = api.post(
        "/api/v1/purchases/", {"merchant_id": merchant.pk, "amount": "1", "term": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert row_counts() == before


def test_plans_and_installments_are_listed_with_what_is_still_due(api, account, merchant):
    buy(account, "600.00", merchant=merchant, term=6)
    buy(account, "300.00", merchant=merchant, term=3)
    plans = api.get("/api/v1/plans/").json()
    assert plans["count"] == 2
    detail = api.get(f"/api/v1/plans/{plans['results'][0]['id']}/").json()
    assert len(detail["installments"]) == detail["term_months"]
    installments = api.get("/api/v1/installments/", {"status": "PENDING"}).json()
    assert installments["count"] == 9
    due_dates = [i["due_date"] for i in installments["results"]]
    assert due_dates == sorted(due_dates)


def test_a_repayment_runs_the_waterfall_and_an_overpayment_becomes_credit_balance(
    api, account, merchant
):
    purchase = buy(account, "300.00", merchant=merchant, term=3)
    first_due, *later = purchase.plan.installments.order_by("sequence")
    # The later periods have not started: their principal is prepaid, their fees waived.
    owed = first_due.amount_due + sum(i.principal_due for i in later)
    response = post(api, "/api/v1/repayments/", {"amount": str(owed + D("50.00"))})
    assert response.status_code == 201, response.content
    body = response.json()
    assert sum(D(a["amount"]) for a in body["allocations"]) == owed + D("50.00")
    assert body["credit_balance_added"] == "50.00"
    first = [a for a in body["allocations"] if a["installment_sequence"] == 1]
    assert [a["component"] for a in first] == ["FEE", "PRINCIPAL"]
    account.refresh_from_db()
    assert (account.outstanding_principal, account.credit_balance) == (D("0.00"), D("50.00"))
    listed = api.get("/api/v1/repayments/").json()
    assert listed["results"][0]["id"] == body["id"]


def test_early_payoff_shows_the_saving_first_and_then_waives_future_fees(api, account, merchant):
    purchase = buy(account, "1200.00", merchant=merchant, term=6)
    plan_id = purchase.plan.pk
    quote = api.get(f"/api/v1/plans/{plan_id}/payoff/").json()
    fees = sum(i.fee for i in purchase.plan.installments.all())
    assert D(quote["fees_waived"]) > 0
    assert D(quote["amount"]) == D("1200.00") + fees - D(quote["fees_waived"])
    response = post(api, f"/api/v1/plans/{plan_id}/payoff/")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == quote["amount"]
    assert response.json()["fees_waived"] == quote["fees_waived"]
    assert api.get(f"/api/v1/plans/{plan_id}/").json()["status"] == "PAID_OFF"
    again = post(api, f"/api/v1/plans/{plan_id}/payoff/")
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_repay")


def test_a_frozen_account_can_still_repay(merchant):
    account = open_account("1000.00")
    buy(account, "100.00", merchant=merchant, term=1)
    from credit.services import account_freeze

    account_freeze(account=account, reason="STAFF", now=timezone.now())
    response = post(customer_client(account.customer), "/api/v1/repayments/", {"amount": "100"})
    assert response.status_code == 201
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN
    assert account.outstanding_principal == 0


def test_a_closed_account_refuses_repayments_and_writes_nothing(merchant):
    account = account_in_state("CLOSED", merchant=merchant)
    before = row_counts()
    response = post(customer_client(account.customer), "/api/v1/repayments/", {"amount": "10"})
    assert response.status_code == 409
    assert response.json()["code"] == "account_closed"
    assert row_counts() == before


def test_a_payment_code_is_issued_for_the_merchant_to_charge(api):
    response = api.post("/api/v1/account/payment-codes/")
    assert response.status_code == 201
    assert response.json()["code"]


def test_list_apis_run_a_bounded_number_of_queries(
    api, account, merchant, django_assert_max_num_queries
):
    for term in (1, 3, 6, 12):
        buy(account, "120.00", merchant=merchant, term=term)
    post(api, "/api/v1/repayments/", {"amount": "200"})
    for url in (
        "/api/v1/account/",
        "/api/v1/account/limit-changes/",
        "/api/v1/purchases/",
        "/api/v1/plans/",
        "/api/v1/installments/",
        "/api/v1/repayments/",
    ):
        with django_assert_max_num_queries(6):
            assert api.get(url).status_code == 200
    purchase_id = Purchase.objects.filter(account=account).first().pk
    repayment_id = Repayment.objects.get(account=account).pk
    for url in (f"/api/v1/purchases/{purchase_id}/", f"/api/v1/repayments/{repayment_id}/"):
        with django_assert_max_num_queries(8):
            assert api.get(url).status_code == 200


def test_installment_status_filter_ignores_unknown_values(api, account, merchant):
    buy(account, "30.00", merchant=merchant, term=3)
    assert api.get("/api/v1/installments/", {"status": "BOGUS"}).json()["count"] == 0
    assert Installment.objects.filter(account=account).count() == 3
    assert LimitChange.objects.filter(account=account).count() == 1
