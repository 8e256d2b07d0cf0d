"""A real browser: a frozen customer appeals from the frozen banner with a PDF and finds it in
"my appeals"."""

from decimal import Decimal

import pytest

from accounts.tests.factories import PASSWORD, customer
from appeals.models import Appeal, AppealStatus, AppealType
from conftest import shanghai
from credit.models import FreezeReason
from credit.services import account_freeze, account_open

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_frozen_customer_appeals_from_the_banner_with_a_pdf_and_sees_it_in_my_appeals(
    live_server, page, tmp_path
):
    user = customer(user__phone="+8613800138000", real_name="李四")
    account = account_open(
        customer=user, base_limit=Decimal("8000.00"), now=shanghai(2026, 1, 5, 9, 0)
    )
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=shanghai(2026, 3, 1, 9, 0))
    proof = tmp_path / "学生证.pdf"
    proof.write_bytes(PDF)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("手机号").fill("13800138000")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    banner = page.locator('section.banner[data-status="FROZEN"]')
    assert banner.is_visible()
    banner.locator("a.appeal-link").click()
    page.wait_for_url("**/appeals/new/?kind=freeze*")

    page.locator('textarea[name="reason"]').fill("我在校园网登录，共享IP规则误判了我的账户。")
    page.locator('input[type="file"][name="files"]').set_input_files(str(proof))
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url("**/appeals/*/")

    appeal = Appeal.objects.get(customer=user)
    assert (appeal.type, appeal.status) == (AppealType.FREEZE, AppealStatus.SUBMITTED)
    assert appeal.attachments.get().original_name == "学生证.pdf"
    assert page.get_by_role("link", name="学生证.pdf").is_visible()

    page.locator('a[href="/appeals/"]').first.click()
    page.wait_for_url(f"{live_server.url}/appeals/")
    row = page.locator("table.appeals tbody tr").filter(has_text=f"#{appeal.pk}")
    assert row.count() == 1
    assert row.get_by_role("link", name=f"#{appeal.pk}").is_visible()

    # The banner's link is gone while the appeal is open.
    page.goto(f"{live_server.url}/")
    assert page.locator('section.banner[data-status="FROZEN"] a.appeal-link').count() == 0
