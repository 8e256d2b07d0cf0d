"""What a user saw wrong in the portal and the back office (issue #12 walkthrough): one money
format, full-width brackets in Chinese, and a raise that ignores the cut-at-once reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.reasons import ReasonCode
from credit.models import FreezeReason, LimitChange, LimitChangeKind
from credit.money import yuan
from credit.services import account_freeze
from credit.tests.test_causes import cut
from testkit import reload
from testkit.credit import buy, open_account
from testkit.people import officer, staff
from testkit.portal import portal_page, status_banner

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_one_money_format_groups_thousands_and_uses_a_real_minus_sign():
    assert [yuan(D("1234567.5")), yuan("-12"), yuan(D("0")), yuan(None)] == [
        "¥1,234,567.50",
        "−¥12.00",
        "¥0.00",
        "",
    ]


def test_installment_tables_plans_and_purchases_show_thousands_separators():
    """The pain: the tiles said ¥8,000.00, the tables under them ¥2000.00."""
    account = open_account("10000.00")
    buy(account, "6000.00", term=3, now=timezone.now())
    page = portal_page(account, "/")
    assert "¥2,000.00" in page and "¥6,000.00" in page
    assert "¥2000.00" not in page and "¥6000.00" not in page


def test_the_cause_text_of_a_negative_line_groups_thousands_in_chinese():
    """The pain: "还款本金 ¥1000.00" under a tile that said −¥1,000.00."""
    account = open_account("10000.00")
    now = timezone.now()
    buy(account, "6000.00", now=now - timedelta(days=2))
    cut(account, "5000.00", now=now - timedelta(days=1))
    banner = status_banner(portal_page(reload(account), "/", language="zh-hans"))
    assert "还款本金 ¥1,000.00" in banner


def test_the_zh_hans_banner_uses_full_width_brackets_and_no_double_space():
    """The pain: "原因：  有多个…(自 2026-02-20)" and a purchase "(已授权)"."""
    account = open_account("10000.00")
    now = timezone.now()
    buy(account, "6000.00", now=now - timedelta(days=2))
    cut(account, "5000.00", now=now - timedelta(days=1))
    account_freeze(account=reload(account), reason=FreezeReason.RISK_RULE, now=now)
    page = portal_page(reload(account), "/", language="zh-hans")
    banner = status_banner(page)
    assert "原因：我们对您账户的定期评估" in banner and "原因： " not in banner
    assert "（自 " in banner and "(自 " not in banner
    assert "（已授权）" in page and "(已授权)" not in page


@pytest.fixture
def admin_client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def operation(client, name, account, data):
    url = f"{reverse('admin:credit_creditaccount_operation', args=[name])}?ids={account.pk}"
    response = client.post(url, data, follow=True)
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_admin_message_after_a_reversal_groups_thousands(admin_client):
    """The pain: "已作为我方失误撤销，当前状态正常，额度8000.00"."""
    account = open_account("8000.00")
    account_freeze(
        account=account,
        reason=FreezeReason.STAFF,
        now=timezone.now(),
        actor=officer(),
        note="checking",
    )
    admin_client.force_login(staff(Role.RISK_OFFICER))
    [message] = operation(
        admin_client, "reverse", account, {"decision": "FREEZE", "reason": "wrong customer"}
    )
    assert "额度¥8,000.00" in message, message


def test_a_raise_with_a_cut_at_once_reason_is_applied_without_that_reason(admin_client):
    """The pain: the set-limit form offers "reason to cut at once" on a raise too; a raise sent
    with one must neither be refused nor record "a court ordered it" on the customer's raise."""
    account = open_account("10000.00")
    admin_client.force_login(staff(Role.RISK_OFFICER))
    url = f"{reverse('admin:credit_creditaccount_operation', args=['set-limit'])}?ids={account.pk}"
    assert "仅对降额有效" in admin_client.get(url).content.decode()
    [message] = operation(
        admin_client,
        "set-limit",
        account,
        {
            "new_base_limit": "12000.00",
            "reason_code": ReasonCode.GOOD_HISTORY,
            "acts_at_once": ReasonCode.LEGAL_ORDER,
            "note": "customer asked",
        },
    )
    assert reload(account).base_limit == D("12000.00")
    change = LimitChange.objects.filter(account=account).latest("id")
    assert (change.kind, change.reason_codes) == (
        LimitChangeKind.MANUAL_OVERRIDE,
        [ReasonCode.GOOD_HISTORY],
    )
    assert "¥10,000.00 → ¥12,000.00" in message, message


def test_the_admin_account_page_shows_money_in_the_one_format(admin_client):
    """The pain: "基础额度: 10000.00" and "0.00 → 10000.00" on the back office's account page."""
    account = open_account("10000.00")
    admin_client.force_login(staff(Role.RISK_OFFICER))
    url = reverse("admin:credit_creditaccount_change", args=[account.pk])
    page = admin_client.get(url).content.decode()
    assert "¥0.00 → ¥10,000.00" in page
    assert page.count("¥10,000.00") >= 4  # base, effective, available, the opening's change
    assert "10000.00" not in page
    changelist = admin_client.get(reverse("admin:credit_creditaccount_changelist"))
    assert "¥10,000.00" in changelist.content.decode()
