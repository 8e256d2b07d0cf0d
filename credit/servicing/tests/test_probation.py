"""Probation after an overdue freeze: half the limit at restoration, all of it after 30 clean
days, ACTIVE after 90; a late payment on probation restarts the count."""

from datetime import date
from decimal import Decimal

import pytest

from conftest import shanghai
from credit.models import AccountStatus
from credit.servicing.tests.helpers import (
    OPENED_AT,
    close,
    close_through,
    limit_changes,
    state_logs,
)
from testkit import reload
from testkit.credit import buy, open_account, repay
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def restored():
    """Frozen on 17 February for period 1 (due the 10th), cured and RESTORED on the 18th."""
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    repay(account, "1030.00", now=shanghai(2026, 2, 17, 10, 0))
    close(date(2026, 2, 18))
    account = reload(account)
    assert (account.status, account.probation_limit_cap) == (
        AccountStatus.RESTORED,
        D("5000.00"),
    )
    return account


def test_the_whole_limit_returns_after_30_clean_days_and_the_account_graduates_after_90(restored):
    repay(restored, "2044.04", now=shanghai(2026, 3, 1, 10, 0))  # periods 2 and 3, early
    close_through(date(2026, 2, 19), date(2026, 3, 19))  # 29 clean days
    assert reload(restored).probation_limit_cap == D("5000.00")
    with capture_events() as events:
        close(date(2026, 3, 20))  # 30
    account = reload(restored)
    assert (account.status, account.probation_limit_cap, account.effective_limit) == (
        AccountStatus.RESTORED,
        D("10000.00"),
        D("10000.00"),
    )
    assert limit_changes(account)[-1] == ("PROBATION_STEP", D("5000.00"), D("10000.00"))
    assert [(e.event, e.context["new_limit"]) for e in events] == [("LIMIT_RAISED", "10000.00")]

    close_through(date(2026, 3, 21), date(2026, 5, 18))  # 89 clean days
    assert reload(restored).status == AccountStatus.RESTORED
    close(date(2026, 5, 19))  # 90
    account = reload(restored)
    assert (account.status, account.status_reason_codes) == (
        AccountStatus.ACTIVE,
        ["PROBATION_COMPLETE"],
    )
    assert (account.pre_incident_limit, account.probation_limit_cap, account.restored_at) == (
        None,
        None,
        None,
    )
    assert state_logs(account)[-1] == ("RESTORED", "ACTIVE", "graduate")


def test_a_late_payment_during_probation_restarts_the_clean_days(restored, settings):
    settings.SERVICING_PROBATION_FULL_LIMIT_DAYS = 5
    settings.SERVICING_PROBATION_DAYS = 25
    close_through(date(2026, 2, 19), date(2026, 3, 12))  # period 2 (10 March) two days late
    assert reload(restored).probation_limit_cap == D("10000.00")  # back on 23 February
    repay(restored, "1020.04", now=shanghai(2026, 3, 12, 10, 0))
    close_through(date(2026, 3, 13), date(2026, 3, 15))
    # Without the late payment it would have graduated on 15 March (18 February + 25).
    assert reload(restored).status == AccountStatus.RESTORED
    close_through(date(2026, 3, 16), date(2026, 4, 6))
    assert reload(restored).status == AccountStatus.RESTORED
    repay(restored, "1024.00", now=shanghai(2026, 4, 6, 10, 0))
    close(date(2026, 4, 7))  # 25 clean days from 13 March
    assert reload(restored).status == AccountStatus.ACTIVE


def test_graduating_removes_a_cap_below_a_limit_raised_during_probation(restored, settings):
    from core.reasons import ReasonCode
    from credit.models import LimitChangeKind
    from credit.services import limit_set

    settings.SERVICING_PROBATION_FULL_LIMIT_DAYS = 2
    settings.SERVICING_PROBATION_DAYS = 4
    limit_set(
        account=restored,
        new_base_limit=D("12000.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.GOOD_HISTORY],
        run_id=3,
        now=shanghai(2026, 2, 18, 2, 0),
    )
    close_through(date(2026, 2, 19), date(2026, 2, 21))
    assert reload(restored).effective_limit == D("10000.00")  # the pre-incident limit
    with capture_events() as events:
        close(date(2026, 2, 22))
    account = reload(restored)
    assert (account.status, account.effective_limit) == (AccountStatus.ACTIVE, D("12000.00"))
    assert limit_changes(account)[-1] == ("PROBATION_STEP", D("10000.00"), D("12000.00"))
    assert [e.event for e in events] == ["LIMIT_RAISED"]


def test_the_probation_cap_ratio_is_a_setting(settings):
    settings.SERVICING_PROBATION_CAP_RATIO = "0.30"
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    repay(account, "1030.00", now=shanghai(2026, 2, 17, 10, 0))
    close(date(2026, 2, 18))
    assert reload(account).probation_limit_cap == D("3000.00")
