"""Customer portal pages: overview, limit history, plan detail and payoff, repay, checkout."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.tests.factories import customer
from credit.models import CreditAccount, Installment, Purchase, Repayment
from credit.services import account_freeze, temporary_limit_grant
from credit.tests.apikit import account_in_state, shop
from testkit.credit import buy, open_account, row_counts

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def merchant():
    return shop()[0]


@pytest.fixture
def account():
    return open_account("10000.00", language="en", real_name="李四")


@pytest.fixture
def browser_client(client, account):
    client.force_login(account.customer)
    return client


def text(response) -> str:
    return response.content.decode()


def test_the_overview_shows_limit_available_status_upcoming_installments_and_history(
    browser_client, account, merchant, django_assert_max_num_queries
):
    buy(account, "600.00", merchant=merchant, term=6)
    temporary_limit_grant(
        account=account,
        amount=D("2000.00"),
        starts_at=timezone.now(),
        ends_at=timezone.now() + timezone.timedelta(days=10),
        now=timezone.now(),
        campaign="618",
    )
    # A running process has the content types cached; the test database's flush empties it.
    ContentType.objects.get_for_models(CreditAccount, Installment)
    with django_assert_max_num_queries(16):
        response = browser_client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "Welcome, 李四" in page
    assert 'data-figure="limit">¥12,000.00' in page  # base 10000 + temporary 2000
    assert 'data-figure="available">¥11,400.00' in page
    assert 'data-status="ACTIVE"' in page
    assert "Upcoming installments" in page
    assert "Temporary limit +¥2,000.00 618" in page
    assert "Temporary limit added" in page  # limit history row


def test_a_negative_available_is_explained_in_words_on_the_overview(client, merchant):
    account = account_in_state("NEGATIVE", merchant=merchant)
    account.customer.preferred_language = "en"
    account.customer.save()
    client.force_login(account.customer)
    page = text(client.get("/"))
    assert "−¥1,000.00" in page
    assert "¥1,000.00 more than your current limit" in page
    assert 'data-status="NEGATIVE"' in page
    assert "Our regular review of your account" in page


@pytest.mark.parametrize("state", ["FROZEN", "NEGATIVE", "CLOSED"])
def test_each_state_shows_its_banner_with_what_the_customer_can_do(client, merchant, state):
    account = account_in_state(state, merchant=merchant)
    client.force_login(account.customer)
    response = client.get("/")
    assert response.status_code == 200
    assert f'data-status="{state}"' in text(response)


@pytest.mark.parametrize(
    "url", ["/credit/repay/", "/credit/checkout/", "/credit/limits/", "/credit/verify/"]
)
def test_a_customer_without_a_credit_line_is_taken_home_with_a_plain_message(client, db, url):
    client.force_login(customer())
    client.cookies["django_language"] = "en"

    response = client.get(url, follow=True)

    assert response.redirect_chain == [("/", 302)]
    html = response.content.decode()
    assert "That page is for customers with a credit line." in html
    assert "You do not have a credit line yet." in html


def test_the_plan_page_shows_the_schedule_the_rate_and_the_payoff_saving(
    browser_client, account, merchant, django_assert_max_num_queries
):
    purchase = buy(account, "1200.00", merchant=merchant, term=6)
    with django_assert_max_num_queries(12):
        response = browser_client.get(f"/credit/plans/{purchase.plan.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert f"{(purchase.plan.annual_rate * 100).quantize(D('0.01'))}%" in page
    assert "you save ¥" in page


def test_paying_off_from_the_plan_page_closes_the_plan_once_even_if_submitted_twice(
    browser_client, account, merchant
):
    purchase = buy(account, "1200.00", merchant=merchant, term=6)
    url = f"/credit/plans/{purchase.plan.pk}/payoff/"
    first = browser_client.post(url, {"idempotency_key": "k1"})
    second = browser_client.post(url, {"idempotency_key": "k1"})
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Repayment.objects.filter(account=account).count() == 1
    purchase.plan.refresh_from_db()
    assert purchase.plan.status == "PAID_OFF"


def test_repaying_through_the_form_shows_where_the_money_went(browser_client, account, merchant):
    buy(account, "300.00", merchant=merchant, term=3)
    response = browser_client.post("/credit/repay/", {"amount": "50.00", "idempotency_key": "r1"})
    assert response.status_code == 302
    repayment = Repayment.objects.get(account=account)
    assert response.url == f"/credit/repayments/{repayment.pk}/"
    page = text(browser_client.get(response.url))
    assert "Repayment of ¥50.00" in page
    browser_client.post("/credit/repay/", {"amount": "50.00", "idempotency_key": "r1"})
    assert Repayment.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("amount", ["0", "-1", "1.005", "abc", ""])
def test_a_bad_repayment_amount_is_refused_on_the_form_and_nothing_is_written(
    browser_client, amount
):
    before = row_counts()
    response = browser_client.post("/credit/repay/", {"amount": amount, "idempotency_key": "x"})
    assert response.status_code == 400
    assert 'role="alert"' in text(response)
    assert row_counts() == before


def test_checkout_shows_every_terms_quote_and_annualised_rate_then_confirms_one(
    browser_client, account, merchant
):
    response = browser_client.get(
        "/credit/checkout/", {"merchant": merchant.pk, "item": "耳机", "amount": "1299.00"}
    )
    page = text(response)
    assert response.status_code == 200
    for term in (1, 3, 6, 9, 12, 24):
        assert f'data-term="{term}"' in page
    assert page.count("data-annual-rate") == 6
    key = response.context["confirm"]["idempotency_key"].value()
    data = {
        "merchant": merchant.pk,
        "item": "耳机",
        "amount": "1299.00",
        "term": 6,
        "idempotency_key": key,
    }
    confirmed = browser_client.post("/credit/checkout/", data)
    assert confirmed.status_code == 302
    purchase = Purchase.objects.get(account=account)
    assert (purchase.amount, purchase.term_months, purchase.description) == (
        D("1299.00"),
        6,
        "耳机",
    )
    assert confirmed.url == f"/credit/plans/{purchase.plan.pk}/"
    browser_client.post("/credit/checkout/", data)
    assert Purchase.objects.filter(account=account).count() == 1


def test_checkout_on_a_frozen_account_shows_quotes_without_a_confirm_button(
    browser_client, account, merchant
):
    account_freeze(account=account, reason="RISK_RULE", now=timezone.now())
    page = text(
        browser_client.get(
            "/credit/checkout/", {"merchant": merchant.pk, "item": "x", "amount": "100"}
        )
    )
    assert 'data-term="3"' in page
    assert "Confirm purchase" not in page
    assert 'data-status="FROZEN"' in page


def test_checkout_on_a_frozen_account_is_refused_in_words_and_nothing_is_written(
    browser_client, account, merchant
):
    account_freeze(account=account, reason="RISK_RULE", now=timezone.now())
    before = row_counts()
    response = browser_client.post(
        "/credit/checkout/",
        {
            "merchant": merchant.pk,
            "item": "x",
            "amount": "10.00",
            "term": 1,
            "idempotency_key": "c1",
        },
    )
    assert response.status_code == 409
    assert "purchases are paused" in text(response)
    assert row_counts() == before


def test_the_limit_history_page_lists_every_change(browser_client, account):
    response = browser_client.get("/credit/limits/")
    assert response.status_code == 200
    assert "Your credit line was opened" in text(response)


def test_another_customers_plan_and_repayment_pages_are_not_found(
    browser_client, merchant, account
):
    other = open_account("1000.00")
    purchase = buy(other, "100.00", merchant=merchant, term=3)
    from credit.services import repayment_apply

    repayment = repayment_apply(
        account=other, amount=D("10"), idempotency_key="o1", now=timezone.now()
    )
    before = row_counts()
    assert browser_client.get(f"/credit/plans/{purchase.plan.pk}/").status_code == 404
    assert browser_client.get(f"/credit/repayments/{repayment.pk}/").status_code == 404
    response = browser_client.post(
        f"/credit/plans/{purchase.plan.pk}/payoff/", {"idempotency_key": "steal"}
    )
    assert response.status_code == 404
    assert row_counts() == before


def test_portal_pages_require_login(client):
    for url in ("/", "/credit/repay/", "/credit/checkout/", "/credit/limits/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response.url


def test_the_repay_checkout_and_history_pages_run_a_bounded_number_of_queries(
    browser_client, account, merchant, django_assert_max_num_queries
):
    for term in (1, 3, 6):
        buy(account, "90.00", merchant=merchant, term=term)
    with django_assert_max_num_queries(14):
        assert browser_client.get("/credit/repay/").status_code == 200
    with django_assert_max_num_queries(12):
        response = browser_client.get(
            "/credit/checkout/", {"merchant": merchant.pk, "item": "x", "amount": "500"}
        )
        assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert browser_client.get("/credit/limits/").status_code == 200


def test_the_repay_page_says_what_clears_everything_today_without_fees_of_periods_not_begun(
    browser_client, account, merchant
):
    buy(account, "300.00", merchant=merchant, term=3)  # today: 3 × (100.00 + 2.40 fee)
    page = text(browser_client.get("/credit/repay/"))
    # The current period's fee is owed; the two later periods' fees are not (yet).
    assert "<dd>¥302.40</dd>" in page
