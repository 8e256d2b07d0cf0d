"""Issue #12, Musts 5 and 6: each freeze cause has its own appeal, through the portal."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal, AppealStatus
from credit.models import AccountStatus, FreezeReason
from credit.services import account_freeze
from testkit import reload
from testkit.credit import open_account
from testkit.people import officer

pytestmark = pytest.mark.django_db


def customer_client(account) -> Client:
    client = Client()
    client.force_login(account.customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def freeze_links(client) -> dict[str, str]:
    page = client.get("/").content.decode()
    banner = re.search(r'<section class="banner.*?</section>', page, re.S).group(0)
    items = re.findall(r'<li data-cause="freeze:(\w+)".*?</li>', banner, re.S)
    hrefs = [
        re.search(r'href="([^"]+)"', item).group(1) if "href" in item else ""
        for item in re.findall(r'<li data-cause="freeze:\w+".*?</li>', banner, re.S)
    ]
    return dict(zip(items, (h.replace("&amp;", "&") for h in hrefs), strict=True))


def test_an_appeal_of_the_misfired_rule_lifts_it_and_leaves_the_staff_freeze_standing():
    """Pain: an approved freeze appeal lifted every reason at once (a real one too), and
    every cause linked to the same appeal."""
    now = timezone.now()
    account = open_account("10000.00")
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=now - timedelta(hours=2))
    account_freeze(
        account=account,
        reason=FreezeReason.STAFF,
        now=now - timedelta(hours=1),
        actor=officer(),
        note="ID check pending",
    )
    client = customer_client(account)

    links = freeze_links(client)
    assert set(links) == {"SHARED_IP", "STAFF"} and links["SHARED_IP"] != links["STAFF"]
    form = client.get(links["SHARED_IP"]).content.decode()
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))
    hidden.pop("csrfmiddlewaretoken", None)
    reason = "我在公司办公网络登录，和同事共用一个出口IP。"
    client.post("/appeals/new/", {**hidden, "reason": reason})
    appeal = Appeal.objects.get()
    assert appeal.freeze_reason == FreezeReason.SHARED_IP
    appeals.appeal_decide(
        appeal=appeal, actor=officer(), outcome=AppealStatus.APPROVED, note="NAT", now=now
    )

    account = reload(account)
    assert (account.status, account.freeze_reasons) == (AccountStatus.FROZEN, ["STAFF"])
    links = freeze_links(client)
    assert list(links) == ["STAFF"] and "freeze_reason=STAFF" in links["STAFF"]
