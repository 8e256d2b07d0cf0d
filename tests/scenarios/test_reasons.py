"""Issue #12, Musts 5 and 6, through the services and the portal as the customer sees them."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from appeals import services as appeals
from appeals.models import AppealStatus
from core.reasons import ReasonCode
from credit.models import FreezeReason, LimitChangeKind
from credit.selectors import amount_owed_total
from credit.services import account_close, account_freeze, account_unfreeze, limit_set
from credit.tests.apikit import shop
from testkit.credit import buy, open_account, repay
from testkit.people import officer
from testkit.portal import portal_page, status_banner

pytestmark = pytest.mark.django_db
D = Decimal


def portal(account, path="/", language="zh-hans") -> str:
    return portal_page(account, path, language=language)


def test_the_banner_keeps_the_cut_that_caused_it_and_the_history_shows_freeze_and_close():
    """Pain: the banner named the latest staff action, the history hid the freeze and the
    close, and a frozen or closed overview said "您还可以消费"."""
    merchant = shop()[0]
    start = timezone.now() - timedelta(days=10)
    account = open_account("10000.00", now=start)
    buy(account, "6000.00", merchant=merchant, now=start + timedelta(hours=1))
    reviewer = officer()
    # The nightly run's cut, applied once its notice period ran out (a staff cut this deep
    # is announced first: tests/scenarios/test_limits.py).
    cut = limit_set(
        account=account,
        new_base_limit=D("5000.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE, ReasonCode.HIGH_UTILISATION],
        now=start + timedelta(days=1),
    )
    account_freeze(
        account=account,
        reason=FreezeReason.STAFF,
        now=start + timedelta(days=2),
        actor=reviewer,
        note="second look",
    )

    frozen = portal(account)
    assert "您还可以消费" not in frozen
    assert re.findall(r'data-cause="([^"]+)"', status_banner(frozen)) == [
        "freeze:STAFF",
        "negative",
    ]
    assert f"kind=limit_change&amp;target={cut.pk}" in status_banner(frozen)

    account_unfreeze(account=account, now=start + timedelta(days=3), actor=reviewer, note="ok")
    negative = portal(account, language="en")
    assert "You are using most of your limit" in status_banner(negative)
    assert "A risk officer reviewed your account" not in status_banner(negative)

    paid_at = start + timedelta(days=4)
    repay(
        account, amount_owed_total(account=account, today=timezone.localdate(paid_at)), now=paid_at
    )
    account_close(account=account, now=start + timedelta(days=5))
    closed = portal(account)
    assert "您还可以消费" not in closed
    history = portal(account, "/credit/limits/", language="en")
    assert "A risk officer reviewed your account" in history  # the staff steps, in words
    labels = re.findall(r'<tr data-history="\w+">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>', history)
    # Newest first: the close, the unfreeze, the freeze, the cut and the fall below zero.
    assert labels.index("Closed") < labels.index("Unfrozen") < labels.index("Frozen")
    assert labels.index("Frozen") < labels.index("Owing more than the limit")


def test_an_appeal_restored_to_8000_restores_8000_and_the_customer_reads_8000():
    """Pain: ¥8,000 entered, ¥10,000 restored, "8,000" and "0.00" on record, "partly"."""
    now = timezone.now()
    account = open_account("10000.00", now=now - timedelta(days=5))
    account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=now - timedelta(days=2))
    appeal = appeals.appeal_submit(
        customer=account.customer,
        kind="restoration",
        target_id=account.pk,
        reason="My salary doubled last month; payslips are attached here.",
        now=now - timedelta(days=1),
    )

    appeal = appeals.appeal_decide(
        appeal=appeal,
        actor=officer(),
        outcome=AppealStatus.APPROVED,
        note="Partial restoration.",
        now=now,
        restore_to=D("8000.00"),
    )

    appeal.refresh_from_db()
    assert (appeal.restore_to, appeal.restored_amount) == (D("8000.00"), D("8000.00"))
    overview = portal(account, language="en")
    assert 'data-figure="limit">¥8,000.00' in overview
    inbox = portal(account, "/notifications/", language="en")
    assert "partly approved" in inbox and "¥8,000.00" in inbox
