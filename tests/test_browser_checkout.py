"""A real browser: the demo checkout (quote, annualised rate, confirm), the plan, early payoff."""

import pytest

from accounts.tests.factories import PASSWORD
from credit.models import Purchase, Repayment
from credit.money import yuan
from credit.tests.apikit import shop
from testkit.credit import launch_fee_schedule, open_account


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_buys_in_six_installments_then_pays_the_plan_off_early(live_server, page):
    launch_fee_schedule()
    shop("演示商城")
    account = open_account("8000.00", language="en", user__phone="+8613800138001")
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("13800138001")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_text("¥8,000.00").first.is_visible()

    page.get_by_role("link", name="Shop (demo)").click()
    page.get_by_label("Price (¥)").fill("1200.00")
    page.get_by_role("button", name="Show installment options").click()
    six = page.locator("tr[data-term='6']")
    assert six.locator("[data-annual-rate]").inner_text().endswith("%")
    six.get_by_role("radio").check()
    page.get_by_role("button", name="Confirm purchase").click()

    purchase = Purchase.objects.get(account=account)
    page.wait_for_url(f"{live_server.url}/credit/plans/{purchase.plan.pk}/")
    assert page.get_by_text("Purchase confirmed.").is_visible()
    assert page.locator("[data-payoff]").inner_text().startswith("Pay ¥")
    page.get_by_role("button", name="and close the plan").click()
    repayment = Repayment.objects.get(account=account)
    page.wait_for_url(f"{live_server.url}/credit/repayments/{repayment.pk}/")
    assert repayment.fees_waived > 0
    assert page.get_by_role("heading", name=f"Repayment of {yuan(repayment.amount)}").is_visible()
