"""A real browser logs in through the real login page and sees the portal."""

import pytest

from accounts.tests.factories import PASSWORD, customer


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_logs_in_through_the_login_page_and_sees_the_portal(live_server, page):
    customer(user__phone="+8613800138000", real_name="张三")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("手机号").fill("138 0013 8000")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="欢迎，张三").is_visible()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    assert page.get_by_role("heading", name="Welcome, 张三").is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_shows_a_form_error_in_the_browser(live_server, page):
    customer(user__phone="+8613800138000")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").first.inner_text().strip() != ""
