"""Temporary limits: expiry (→ NEGATIVE when available drops below zero), scheduled starts,
lapses, and the notice three days before a grant ends."""

from datetime import date
from decimal import Decimal

import pytest

from conftest import shanghai
from credit.models import AccountStatus, GrantStatus, TemporaryLimitGrant
from credit.services import temporary_limit_grant
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

END_OF_MARCH = shanghai(2026, 3, 31, 23, 59, 59)


def campaign_account(spend: str = "2500.00"):
    """Limit 1,000 + a 2,000 campaign grant until the end of March; `spend` used on 5 March."""
    account = open_account("1000.00", now=OPENED_AT)
    grant = temporary_limit_grant(
        account=account,
        amount=D("2000.00"),
        starts_at=shanghai(2026, 3, 1),
        ends_at=END_OF_MARCH,
        campaign="38节",
        now=shanghai(2026, 3, 1),
    )
    buy(account, spend, term=6, now=shanghai(2026, 3, 5, 12, 0))
    return account, grant


def test_a_grant_that_ended_expires_and_the_account_goes_negative_in_the_same_close():
    account, grant = campaign_account("2500.00")
    close(date(2026, 3, 31))
    assert reload(account).temporary_limit == D("2000.00")  # still the 31st: not over
    with capture_events() as events:
        close(date(2026, 4, 1))
    grant.refresh_from_db()
    account = reload(account)
    assert (grant.status, grant.ended_at) == (GrantStatus.EXPIRED, shanghai(2026, 4, 1, 0, 30))
    assert (account.temporary_limit, account.status, account.available) == (
        D("0.00"),
        AccountStatus.NEGATIVE,
        D("-1500.00"),
    )
    assert account.status_reason_codes == ["TEMPORARY_EXPIRY"]
    assert state_logs(account)[-1] == ("ACTIVE", "NEGATIVE", "go_negative")
    assert limit_changes(account)[-1] == ("TEMPORARY_EXPIRY", D("3000.00"), D("1000.00"))
    assert {(e.event, e.dedupe_key.split(":")[0]) for e in events} == {
        ("TEMPORARY_LIMIT_ENDED", "grant"),
        ("ACCOUNT_NEGATIVE", "close"),
    }
    ended = next(e for e in events if e.event == "TEMPORARY_LIMIT_ENDED")
    assert ended.context == {
        "amount": "2000.00",
        "effective_limit": "1000.00",
        "available": "-1500.00",
    }


def test_an_expiry_that_leaves_available_at_zero_or_more_keeps_the_account_active():
    account, _grant = campaign_account("900.00")
    close(date(2026, 4, 1))
    account = reload(account)
    assert (account.status, account.available) == (AccountStatus.ACTIVE, D("100.00"))


def test_a_negative_account_repays_back_above_zero_and_is_restored_on_probation():
    account, _grant = campaign_account("2500.00")
    close(date(2026, 4, 1))
    # 1,600 pays the three periods begun (435.41 each), then 293.77 of principal ahead
    # (no fee for periods not begun): 1,581.25 of principal.
    repay(account, "1600.00", now=shanghai(2026, 4, 1, 10, 0))
    account = reload(account)
    assert (account.status, account.outstanding_principal) == (
        AccountStatus.RESTORED,
        D("918.75"),
    )
    assert account.probation_limit_cap is None
    with capture_events() as events:
        close(date(2026, 4, 2))
    account = reload(account)
    # The close starts probation: half of the 1,000 before, but not below the 918.75 owed.
    assert (account.probation_limit_cap, account.available) == (D("918.75"), D("0.00"))
    assert limit_changes(account)[-1] == ("PROBATION_STEP", D("1000.00"), D("918.75"))
    assert [(e.event, e.context["new_limit"]) for e in events] == [("LIMIT_CUT", "918.75")]


def test_a_scheduled_grant_applies_when_its_start_has_come():
    account = open_account("1000.00", now=OPENED_AT)
    grant = temporary_limit_grant(
        account=account,
        amount=D("500.00"),
        starts_at=shanghai(2026, 6, 1),
        ends_at=shanghai(2026, 6, 20, 23, 59, 59),
        campaign="618",
        now=shanghai(2026, 5, 20),
    )
    close(date(2026, 5, 31))
    grant.refresh_from_db()
    assert (reload(account).temporary_limit, grant.status) == (D("0.00"), "SCHEDULED")
    with capture_events() as events:
        close(date(2026, 6, 1))
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    assert reload(account).effective_limit == D("1500.00")
    assert limit_changes(account)[-1] == ("TEMPORARY_GRANT", D("1000.00"), D("1500.00"))
    assert [(e.event, e.dedupe_key) for e in events] == [
        ("TEMPORARY_LIMIT_GRANTED", f"grant:{grant.pk}:granted")
    ]


def test_a_grant_starting_as_another_ends_changes_the_limit_once_with_two_audit_rows():
    account, old = campaign_account("2500.00")
    new = temporary_limit_grant(
        account=account,
        amount=D("1500.00"),
        starts_at=shanghai(2026, 4, 1),
        ends_at=shanghai(2026, 4, 30, 23, 59, 59),
        campaign="清明",
        now=shanghai(2026, 3, 20),
    )
    close(date(2026, 4, 1))
    account = reload(account)
    # 1,000 + 1,500 − 2,500 owed: available 0, never negative in between.
    assert (account.status, account.temporary_limit, account.available) == (
        AccountStatus.ACTIVE,
        D("1500.00"),
        D("0.00"),
    )
    assert limit_changes(account)[-2:] == [
        ("TEMPORARY_EXPIRY", D("3000.00"), D("1000.00")),
        ("TEMPORARY_GRANT", D("1000.00"), D("2500.00")),
    ]
    assert [s for s, *_ in state_logs(account)] == []
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (GrantStatus.EXPIRED, GrantStatus.ACTIVE)


def test_a_grant_whose_whole_window_fell_between_two_closes_lapses_without_applying():
    account = open_account("1000.00", now=OPENED_AT)
    grant = temporary_limit_grant(
        account=account,
        amount=D("300.00"),
        starts_at=shanghai(2026, 6, 2, 12),
        ends_at=shanghai(2026, 6, 2, 18),
        now=shanghai(2026, 6, 1, 9),
        campaign="flash",
    )
    close(date(2026, 6, 1))
    with capture_events() as events:
        close(date(2026, 6, 3))
    grant.refresh_from_db()
    assert (grant.status, reload(account).temporary_limit) == (GrantStatus.EXPIRED, D("0"))
    assert limit_changes(account) == [("ACCOUNT_OPEN", D("0.00"), D("1000.00"))]
    assert events == []


def test_customers_hear_three_days_before_a_grant_ends_and_only_once():
    _account, grant = campaign_account("100.00")
    with capture_events() as events:
        close_through(date(2026, 3, 27), date(2026, 3, 30))
    ending = [e for e in events if e.event == "TEMPORARY_LIMIT_ENDING"]
    assert [(e.dedupe_key, e.context["amount"]) for e in ending] == [
        (f"grant:{grant.pk}:ending", "2000.00")
    ]
    assert TemporaryLimitGrant.objects.get(pk=grant.pk).status == GrantStatus.ACTIVE


def test_a_catch_up_does_not_announce_a_grant_that_has_already_ended():
    _account, _grant = campaign_account("100.00")
    close(date(2026, 3, 26))
    with capture_events() as events:
        close(date(2026, 4, 2))  # down from the 27th: the 28th's notice would be stale
    assert [e.event for e in events if e.event.startswith("TEMPORARY")] == ["TEMPORARY_LIMIT_ENDED"]
