"""Scenarios of no-fault reversal (issue #12, Must 1 and 10): when we were wrong, the customer is
made whole at once, told so, and the mistake never counts against them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LoginEvent
from accounts.roles import Role
from conftest import shanghai
from core.events import EventType
from credit.models import AccountStatus, DecisionReversal, Installment, ReversalSource
from credit.risk.features import account_features
from credit.risk.models import RiskRule, RuleAction, RuleCode
from credit.risk.rollback import run_rollback
from credit.risk.rules import flag_clear, rules_run
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import active_policy, bands
from credit.servicing.tests.helpers import close
from notifications.models import Channel, Notification
from notifications.rendering import notice_render
from testkit import reload
from testkit.credit import assert_ledger_holds, buy, open_account
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal
OPENED_AT = shanghai(2025, 1, 2, 9, 0)


def reversal_notice(account) -> Notification:
    return Notification.objects.get(
        user=account.customer, event=EventType.DECISION_REVERSED, channel=Channel.IN_APP
    )


def rendered(notice: Notification, language: str) -> str:
    return notice_render(
        channel=notice.channel,
        template_key=notice.template_key,
        language=language,
        context=notice.context,
    ).body


def test_a_cleared_false_positive_gives_the_full_limit_back_active_with_an_apology(client):
    """Pain: customers unfrozen after a cleared false alarm went to RESTORED with half their
    limit and 90 days of probation, told their limit "will come back step by step"."""
    now = shanghai(2026, 3, 10, 15, 0)
    # The launch rule as it misfired: five users in an hour froze them (today's default asks
    # them to verify instead: tests/scenarios/test_rules.py).
    RiskRule.objects.update_or_create(
        code=RuleCode.SHARED_IP,
        defaults={"threshold": 5, "window_minutes": 60, "action": RuleAction.FREEZE},
    )
    accounts = [open_account("10000.00", now=OPENED_AT) for _ in range(5)]
    for n, account in enumerate(accounts):  # one office network, five colleagues
        LoginEvent.objects.create(
            user=account.customer,
            ip_address="203.0.113.7",
            user_agent_hash="ua",
            device_id=f"d{n}",
            occurred_at=now - timedelta(minutes=5 * n),
        )
    (flag,) = rules_run(now=now)
    assert all(reload(a).status == AccountStatus.FROZEN for a in accounts)

    flag_clear(flag=flag, actor=staff(Role.RISK_OFFICER), now=now, note="office NAT")
    close(date(2026, 3, 11))  # the next business day puts nobody on probation

    for account in accounts:
        account = reload(account)
        assert account.status == AccountStatus.ACTIVE
        assert account.effective_limit == account.available == D("10000.00")
        assert account.probation_limit_cap is None and account.pre_incident_limit is None
        reversal = DecisionReversal.objects.get(account=account)
        assert reversal.source == ReversalSource.FLAG_CLEARED
        assert reversal.source_ref == f"risk.riskflag:{flag.pk}"
        notice = reversal_notice(account)
        assert "深表歉意" in rendered(notice, "zh-hans")
        assert "We apologise" in rendered(notice, "en")
        assert "step by step" not in rendered(notice, "en")
        features = account_features(account_id=account.pk, as_of=date(2026, 3, 11))
        assert features["recent_flags"] == 0
    client.force_login(accounts[0].customer)
    page = client.get("/").content.decode()
    assert 'data-status="ACTIVE"' in page and 'data-figure="limit">¥10,000.00' in page
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert "误冻结" in inbox or "froze your credit line by mistake" in inbox
    assert_ledger_holds()


def test_a_buggy_run_rolled_back_leaves_every_affected_customer_whole(settings):
    """Pain: a buggy model update cut good customers; rolling it back must leave every one of
    them whole — limits back, penalties since waived, told, and no trace in the next score."""
    settings.RISK_BREAKER_CUT_PERCENT = 100
    settings.RISK_COOLING_OFF_CUT_PERCENT = 100
    run_at = shanghai(2026, 6, 5, 2, 0)
    active_policy(score_bands=bands((300, "4000")), max_cut_percent=D("60"))  # the bug
    accounts = [open_account("10000.00", now=OPENED_AT) for _ in range(3)]
    late = accounts[0]
    buy(late, "3000.00", term=1, now=shanghai(2026, 5, 1, 12, 0))  # due 10 June, left unpaid
    run = run_execute(run=run_plan(as_of=run_at.date(), now=run_at), now=run_at)
    assert {reload(a).base_limit for a in accounts} == {D("4000.00")}
    close(date(2026, 6, 15))  # two days of penalty on the late one, after the buggy run
    charged = sum(i.penalty for i in Installment.objects.filter(account=late))
    assert charged > 0

    report = run_rollback(
        run=run, actor=staff(Role.RISK_MANAGER), now=shanghai(2026, 6, 15, 10), note="bad model"
    )

    assert report["cuts_reversed_as_our_error"] == 3
    for account in accounts:
        account = reload(account)
        assert (account.status, account.base_limit) == (AccountStatus.ACTIVE, D("10000.00"))
        assert account.probation_limit_cap is None
        reversal = DecisionReversal.objects.get(account=account)
        assert reversal.source == ReversalSource.RUN_ROLLBACK
        assert reversal.wrong_limit_change.run_id == run.pk  # the run's cut, still on record
        assert "¥10,000.00" in rendered(reversal_notice(account), "zh-hans")
        assert "¥10,000.00" in rendered(reversal_notice(account), "en")
        features = account_features(account_id=account.pk, as_of=date(2026, 6, 16))
        assert (features["cuts_90d"], features["days_since_cut"]) == (0, None)
    assert sum(i.penalty_due for i in Installment.objects.filter(account=late)) == 0
    assert DecisionReversal.objects.get(account=late).penalty_waived == charged
    assert_ledger_holds()
