"""Must 6 of issue #12: the account's active causes, the banner, the interleaved history, and
no "you can spend" on a line that cannot."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    FreezeReason,
    Installment,
    InstallmentStatus,
    LimitChangeKind,
)
from credit.selectors import account_causes, account_history
from credit.services import account_close, account_freeze, account_unfreeze, limit_set
from credit.servicing.tests.helpers import OPENED_AT, close, close_through
from credit.tests.apikit import account_in_state, customer_client, shop
from testkit import reload
from testkit.credit import buy, open_account
from testkit.people import officer
from testkit.portal import portal_page, status_banner

pytestmark = pytest.mark.django_db
D = Decimal
STAFF_WORDS = "A risk officer reviewed your account"
CUT_WORDS = "You are using most of your limit"
RULE_WORDS = "A security rule flagged recent activity"


@pytest.fixture
def merchant():
    return shop()[0]


def page_of(account, path="/", *, language="en") -> str:
    return portal_page(account, path, language=language)


def causes_in(page: str) -> list[str]:
    return re.findall(r'data-cause="([^"]+)"', status_banner(page))


def cut(account, to, *, now, actor=None, note=""):
    return limit_set(
        account=account,
        new_base_limit=D(to),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE, ReasonCode.HIGH_UTILISATION],
        now=now,
        actor=actor,
        note=note,
    )


# --- the set of causes ------------------------------------------------------------------------


def test_each_freeze_reason_is_its_own_cause_with_its_own_appeal_link():
    account = open_account("10000.00", language="en")
    now = timezone.now()
    account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=now)
    account_freeze(
        account=account, reason=FreezeReason.STAFF, now=now, actor=officer(), note="call back"
    )

    page = page_of(account)

    assert causes_in(page) == ["freeze:RISK_RULE", "freeze:STAFF"]
    items = re.findall(r'<li data-cause="freeze:(\w+)".*?</li>', status_banner(page), re.S)
    links = re.findall(r'<li data-cause="freeze:\w+".*?href="([^"]+)"', status_banner(page), re.S)
    assert items == ["RISK_RULE", "STAFF"]
    assert links == [
        f"/appeals/new/?kind=freeze&amp;target={account.pk}&amp;freeze_reason={reason}"
        for reason in items
    ]  # each cause its own appeal, of that reason only
    assert RULE_WORDS in status_banner(page) and STAFF_WORDS in status_banner(page)


def test_an_overdue_cause_says_repay_and_links_to_more_time_for_the_overdue_installment():
    account = open_account("10000.00", language="en", now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=shanghai(2026, 2, 1))
    close_through(date(2026, 2, 10), date(2026, 2, 17))  # 7 days past due: OVERDUE too
    account = reload(account)
    assert account.freeze_reasons == [FreezeReason.OVERDUE, FreezeReason.SHARED_IP]
    overdue = Installment.objects.get(account=account, status=InstallmentStatus.OVERDUE)

    page = page_of(account)

    overdue_item, shared_item = re.findall(r"<li data-cause=.*?</li>", status_banner(page), re.S)
    assert "Repay the overdue installments" in overdue_item
    assert f"/appeals/new/?kind=installment&amp;target={overdue.pk}" in overdue_item
    assert "kind=freeze" not in overdue_item
    assert "freeze_reason=SHARED_IP" in shared_item


def test_clearing_one_cause_removes_only_that_one():
    account = open_account("10000.00", language="en")
    now = timezone.now()
    account_freeze(account=account, reason=FreezeReason.OVERDUE, now=now)
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=now)

    account_unfreeze(account=account, now=now, only_reason=FreezeReason.OVERDUE)

    account = reload(account)
    assert account.status == AccountStatus.FROZEN
    assert [cause.key for cause in account_causes(account)] == ["freeze:SHARED_IP"]
    page = page_of(account)
    assert causes_in(page) == ["freeze:SHARED_IP"]
    assert "An installment is overdue" not in status_banner(page)


def test_a_staff_unfreeze_does_not_replace_the_cut_that_keeps_the_line_below_zero(merchant):
    """The pain: the banner said "a risk officer reviewed your account", not the cut."""
    account = open_account("10000.00", language="en")
    now = timezone.now()
    buy(account, "6000.00", merchant=merchant, now=now - timedelta(days=3))
    change = cut(account, "5000.00", now=now - timedelta(days=2))
    reviewer = officer()
    account_freeze(
        account=account,
        reason=FreezeReason.STAFF,
        now=now - timedelta(days=1),
        actor=reviewer,
        note="checking",
    )
    assert causes_in(page_of(account)) == ["freeze:STAFF", "negative"]

    account_unfreeze(account=account, now=now, actor=reviewer, note="checked")

    account = reload(account)
    assert account.status == AccountStatus.NEGATIVE
    assert account.status_reason_codes == [ReasonCode.STAFF_DECISION]  # the latest step only
    page = page_of(account)
    assert causes_in(page) == ["negative"]
    assert CUT_WORDS in status_banner(page) and STAFF_WORDS not in status_banner(page)
    assert f"kind=limit_change&amp;target={change.pk}" in status_banner(page)
    assert "Repay ¥1,000.00 of principal" in status_banner(page)


def test_probation_is_a_cause_that_says_when_the_whole_limit_comes_back(settings):
    settings.SERVICING_PROBATION_FULL_LIMIT_DAYS = 21
    account = open_account("10000.00", language="en", now=shanghai(2026, 3, 1, 9, 0))
    account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=shanghai(2026, 3, 2, 9, 0))
    account_unfreeze(account=account, now=shanghai(2026, 3, 3, 9, 0))
    close(date(2026, 3, 4))  # servicing's close starts the probation cap

    account = reload(account)
    assert account.probation_limit_cap == D("5000.00")
    page = page_of(account)
    assert causes_in(page) == ["probation"]
    assert "after 21 days without anything overdue" in status_banner(page)


# --- the history --------------------------------------------------------------------------


def test_the_limit_history_interleaves_freeze_unfreeze_and_close_with_limit_changes(
    django_assert_max_num_queries,
):
    start = timezone.now() - timedelta(days=10)
    account = open_account("10000.00", language="en", now=start)
    account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=start + timedelta(days=1))
    account_unfreeze(account=account, now=start + timedelta(days=2))
    cut(account, "8000.00", now=start + timedelta(days=3))
    account_close(account=account, now=start + timedelta(days=4))

    page = page_of(account, "/credit/limits/")

    rows = re.findall(r'<tr data-history="(\w+)">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', page)
    assert rows == [
        ("status", "Closed"),
        ("limit", "Regular review"),
        ("status", "Unfrozen"),
        ("status", "Frozen"),
        ("limit", "Account opened"),
    ]
    assert "Frozen → Restored (probation)" in page and "Active → Closed" not in page
    assert RULE_WORDS in page
    # The staff note never reaches the customer; only the reason codes do.
    entries = account_history(account=account)
    assert [entry.at for entry in entries] == sorted((e.at for e in entries), reverse=True)


def test_the_api_lists_status_events_with_limit_changes(merchant):
    account = account_in_state("FROZEN", merchant=merchant)

    body = customer_client(account.customer).get("/api/v1/account/history/").json()

    kinds = [(row["kind"], row["new_status"]) for row in body["results"]]
    assert kinds == [("status", "FROZEN"), ("limit", "")]
    assert body["results"][0]["reason_codes"] == [ReasonCode.RISK_FLAG]
    assert body["results"][1]["new_effective_limit"] == "5000.00"


# --- never "you can spend" on a line that cannot -------------------------------------------


@pytest.mark.parametrize("state", ["FROZEN", "CLOSED", "NEGATIVE"])
@pytest.mark.parametrize(
    ("language", "can_spend", "paused"),
    [("en", "You can spend", "purchases"), ("zh-hans", "您还可以消费", "消费")],
)
def test_a_line_that_cannot_buy_never_says_the_customer_can_spend(
    merchant, state, language, can_spend, paused
):
    account = account_in_state(state, merchant=merchant)
    account.customer.preferred_language = language
    account.customer.save()

    page = page_of(account, language=language)
    api = customer_client(account.customer).get("/api/v1/account/")

    assert can_spend not in page
    assert can_spend not in api.json()["available_explained"]
    words = re.search(r"data-available-words>([^<]*)<", page).group(1)
    assert paused in words  # it says what stands in the way instead
    if state != "CLOSED":
        assert api.json()["status"]["causes"], "each cause comes with what ends it"
        assert all(cause["remedy"] for cause in api.json()["status"]["causes"])


def test_an_active_line_still_says_how_much_it_can_spend():
    account = open_account("10000.00", language="en")
    assert "You can spend up to ¥10,000.00 more." in page_of(account)  # as the tiles above
