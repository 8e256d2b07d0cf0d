"""Overdue freezes at the threshold, and the automatic unfreeze when the overdue is cured."""

from datetime import date
from decimal import Decimal

import pytest

from conftest import shanghai
from credit.models import AccountStatus, FreezeReason
from credit.services import account_freeze
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
def late():
    """Limit 10,000; ¥3,000 in 3 periods (1,024.00 each), the first due 10 February 2026."""
    account = open_account(now=OPENED_AT)
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    return account


def test_six_days_past_due_is_not_frozen_and_seven_is(late):
    close_through(date(2026, 2, 10), date(2026, 2, 16))
    assert reload(late).status == AccountStatus.ACTIVE
    with capture_events() as events:
        close(date(2026, 2, 17))
    account = reload(late)
    assert (account.status, account.freeze_reasons, account.status_reason_codes) == (
        AccountStatus.FROZEN,
        [FreezeReason.OVERDUE],
        ["OVERDUE"],
    )
    assert account.pre_incident_limit == D("10000.00")
    assert state_logs(account)[-1] == ("ACTIVE", "FROZEN", "freeze")
    [frozen] = [e for e in events if e.event == "ACCOUNT_FROZEN"]
    assert frozen.user_id == account.customer_id
    assert frozen.context["reason_codes"] == ["OVERDUE"]
    assert frozen.dedupe_key == f"close:2026-02-17:ACCOUNT_FROZEN:{account.pk}"


def test_the_freeze_threshold_is_a_setting(late, settings):
    settings.SERVICING_FREEZE_DAYS_PAST_DUE = 3
    close_through(date(2026, 2, 10), date(2026, 2, 13))
    assert reload(late).status == AccountStatus.FROZEN


def test_an_account_frozen_by_staff_gains_the_overdue_reason_without_a_second_transition(late):
    account_freeze(account=late, reason=FreezeReason.STAFF, now=shanghai(2026, 2, 1))
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    account = reload(late)
    assert account.freeze_reasons == [FreezeReason.OVERDUE, FreezeReason.STAFF]
    assert [log[2] for log in state_logs(account)] == ["freeze"]


def test_curing_the_overdue_unfreezes_at_once_and_the_close_then_caps_half_the_limit(late):
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    repaid_at = shanghai(2026, 2, 17, 10, 0)
    with capture_events() as events:
        repay(late, "1030.00", now=repaid_at)  # period 1 with its penalty
    # The repayment lifts the OVERDUE freeze in its own transaction, not at the next close.
    account = reload(late)
    assert (account.status, account.freeze_reasons, account.status_reason_codes) == (
        AccountStatus.RESTORED,
        [],
        ["OVERDUE_CURED"],
    )
    assert account.restored_at == repaid_at
    assert state_logs(account)[-1] == ("FROZEN", "RESTORED", "unfreeze")
    assert [e.event for e in events if e.user_id == account.customer_id] == [
        "REPAYMENT_RECEIVED",
        "ACCOUNT_UNFROZEN",
    ]
    close(date(2026, 2, 18))
    account = reload(late)
    # The close starts probation: half of the 10,000.00 before the incident; the customer
    # owes 2,000.00, less than that.
    assert account.probation_limit_cap == D("5000.00")
    assert account.available == D("3000.00")
    assert limit_changes(account)[-1] == ("PROBATION_STEP", D("10000.00"), D("5000.00"))


def test_the_probation_cap_is_never_below_what_the_customer_owes():
    account = open_account("10000.00", now=OPENED_AT)
    buy(account, "9000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    repay(account, "3090.00", now=shanghai(2026, 2, 17, 10, 0))  # period 1 (3,072) + penalty
    close(date(2026, 2, 18))
    account = reload(account)
    # Owes 6,000.00 > 50 % of 10,000.00: capped at what is owed, available 0, not NEGATIVE.
    assert (account.status, account.probation_limit_cap, account.available) == (
        AccountStatus.RESTORED,
        D("6000.00"),
        D("0.00"),
    )


def test_curing_while_owing_more_than_the_limit_unfreezes_to_negative():
    from core.reasons import ReasonCode
    from credit.models import LimitChangeKind
    from credit.services import limit_set

    account = open_account("10000.00", now=OPENED_AT)
    buy(account, "6000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    limit_set(
        account=account,
        new_base_limit=D("1000.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.CURRENTLY_PAST_DUE],
        run_id=1,
        now=shanghai(2026, 2, 17, 2, 0),
    )
    with capture_events() as events:
        repay(account, "2100.00", now=shanghai(2026, 2, 17, 10, 0))  # period 1 (2,048) + penalty
    account = reload(account)
    assert (account.status, account.probation_limit_cap) == (AccountStatus.NEGATIVE, None)
    assert account.available < 0
    assert state_logs(account)[-1] == ("FROZEN", "NEGATIVE", "unfreeze")
    assert [e.event for e in events] == [
        "REPAYMENT_RECEIVED",
        "ACCOUNT_UNFROZEN",
        "ACCOUNT_NEGATIVE",
    ]


def test_an_account_also_frozen_for_another_reason_only_loses_the_overdue_reason(late):
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    account_freeze(account=late, reason=FreezeReason.COMPLIANCE, now=shanghai(2026, 2, 17, 9))
    repay(late, "1030.00", now=shanghai(2026, 2, 17, 10, 0))
    # The repayment drops only the reason it cured, at once.
    assert reload(late).freeze_reasons == [FreezeReason.COMPLIANCE]
    with capture_events() as events:
        close(date(2026, 2, 18))
    account = reload(late)
    assert (account.status, account.freeze_reasons) == (
        AccountStatus.FROZEN,
        [FreezeReason.COMPLIANCE],
    )
    assert events == []


def test_a_partly_cured_account_stays_frozen_while_anything_is_overdue(late):
    close_through(date(2026, 2, 10), date(2026, 3, 12))  # periods 1 and 2 overdue
    repay(late, "1100.00", now=shanghai(2026, 3, 12, 10, 0))  # period 1 and its penalty
    close(date(2026, 3, 13))
    assert reload(late).status == AccountStatus.FROZEN


def test_a_restored_account_that_goes_overdue_again_is_frozen_again_keeping_its_old_limit(late):
    close_through(date(2026, 2, 10), date(2026, 2, 17))
    repay(late, "1030.00", now=shanghai(2026, 2, 17, 10, 0))
    close_through(date(2026, 2, 18), date(2026, 3, 17))  # period 2 due 10 March unpaid
    account = reload(late)
    assert account.status == AccountStatus.FROZEN
    assert account.pre_incident_limit == D("10000.00")
    assert [log[2] for log in state_logs(account)] == ["freeze", "unfreeze", "freeze"]
