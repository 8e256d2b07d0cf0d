"""A real browser: the banner of a frozen line that is also below zero lists both causes, each
with its own appeal link, and the link of the cut opens the appeal of that cut."""

from decimal import Decimal

import pytest

from accounts.tests.factories import PASSWORD, customer
from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import FreezeReason, LimitChangeKind
from credit.services import account_freeze, account_open, limit_set
from credit.tests.apikit import shop
from testkit.credit import buy, launch_fee_schedule


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_banner_lists_each_cause_with_its_own_appeal_link(live_server, page):
    launch_fee_schedule()
    user = customer(user__phone="+8613800138001", real_name="王五")
    account = account_open(
        customer=user, base_limit=Decimal("8000.00"), now=shanghai(2026, 1, 5, 9, 0)
    )
    buy(account, "6000.00", merchant=shop()[0], now=shanghai(2026, 2, 1, 9, 0))
    cut = limit_set(
        account=account,
        new_base_limit=Decimal("5000.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE, ReasonCode.HIGH_UTILISATION],
        now=shanghai(2026, 2, 20, 9, 0),
    )
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=shanghai(2026, 3, 1, 9, 0))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号").fill("13800138001")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    banner = page.locator('section.banner[data-status="FROZEN"]')
    causes = banner.locator("li[data-cause]")
    assert causes.count() == 2
    freeze_link = banner.locator('li[data-cause="freeze:SHARED_IP"] a.appeal-link')
    assert freeze_link.is_visible()
    assert freeze_link.get_attribute("href").endswith("freeze_reason=SHARED_IP")  # this one only
    banner.locator('li[data-cause="negative"] a.appeal-link').click()
    page.wait_for_url(f"**/appeals/new/?kind=limit_change&target={cut.pk}")
