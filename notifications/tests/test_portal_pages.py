"""The notification pages look like every other customer page: the same menu, the same dates."""

import re

import pytest

from notifications.tests.factories import NOW, InAppNotificationFactory, SandboxSmsFactory
from testkit.credit import open_account
from testkit.portal import portal_page

pytestmark = pytest.mark.django_db


def menu(page: str) -> list[str]:
    nav = re.search(r'<nav aria-label="[^"]*" class="site-nav">(.*?)</nav>', page, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.fixture
def account():
    return open_account()


def test_every_customer_page_has_the_same_menu(account):
    """The pain: the inbox and the sandbox SMS page had no 还款 and no 购物(演示)."""
    overview = menu(portal_page(account, "/"))
    assert "/credit/repay/" in overview and "/credit/checkout/" in overview
    for path in (
        "/notifications/",
        "/notifications/sandbox-sms/",
        "/appeals/",
        "/accounts/profile/",
    ):
        assert menu(portal_page(account, path)) == overview, path


def test_the_inbox_and_the_sandbox_sms_show_dates_as_on_the_other_pages(account):
    """The pain: "2026年3月10日 10:00" on the SMS page, "2026-03-10 10:00" on the verify page."""
    InAppNotificationFactory(user=account.customer, created_at=NOW)
    SandboxSmsFactory(phone=str(account.customer.phone), created_at=NOW)
    for path in ("/notifications/", "/notifications/sandbox-sms/"):
        page = portal_page(account, path, language="zh-hans")
        assert ">2026-03-10 10:00</time>" in page, path
        assert "2026年" not in page, path
