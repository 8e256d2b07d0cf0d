"""limit_set and temporary grants: a LimitChange for each, NEGATIVE/RESTORED in the same transaction."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django_fsm_log.models import StateLog

from conftest import shanghai
from core.events import EventType
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import AccountStatus, GrantStatus, LimitChange, LimitChangeKind
from credit.services import (
    AccountClosed,
    InvalidAmount,
    ReasonRequired,
    account_close,
    limit_set,
    temporary_limit_grant,
)
from testkit import people
from testkit.credit import buy, open_account, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def rescore(account, limit, *, codes=(ReasonCode.HIGH_UTILISATION,), now=NOW):
    return limit_set(
        account=account,
        new_base_limit=D(limit),
        kind=LimitChangeKind.RESCORE,
        reason_codes=list(codes),
        run_id=42,
        now=now,
    )


def test_a_cut_below_what_is_owed_sends_the_account_negative_in_the_same_transaction():
    account = open_account(base_limit="5000.00")
    buy(account, "4000.00", now=shanghai(2026, 1, 6, 12, 0))
    with capture_events() as events:
        change = rescore(account, "3000.00")

    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.NEGATIVE, D("-1000.00"))
    assert account.status_reason_codes == [ReasonCode.HIGH_UTILISATION]
    # The pre-incident limit is the one before the cut: what a restoration gives back.
    assert account.pre_incident_limit == D("5000.00")
    assert (change.old_effective_limit, change.new_effective_limit, change.run_id) == (
        D("5000.00"),
        D("3000.00"),
        42,
    )
    log = StateLog.objects.for_(account).get()
    assert (log.transition, log.state, log.description) == (
        "go_negative",
        AccountStatus.NEGATIVE,
        "HIGH_UTILISATION | run=42",
    )
    assert [e.event for e in events] == [EventType.ACCOUNT_NEGATIVE, EventType.LIMIT_CUT]
    assert events[1].context["limit_change_id"] == change.pk
    assert ledger_check().ok


def test_the_status_and_the_cut_are_in_one_transaction_nothing_commits_between_them():
    # The CHECK constraint is not deferrable: if the service saved the cut before the status,
    # PostgreSQL itself would refuse the UPDATE.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT condeferrable FROM pg_constraint "
            "WHERE conname = 'account_negative_iff_available_below_zero'"
        )
        assert cursor.fetchone() == (False,)


def test_a_cut_that_leaves_available_at_zero_keeps_the_account_active():
    account = open_account(base_limit="5000.00")
    buy(account, "3000.00", now=shanghai(2026, 1, 6, 12, 0))
    rescore(account, "3000.00")
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.ACTIVE, D("0.00"))


def test_a_raise_that_brings_available_back_to_zero_restores_a_negative_account():
    officer = people.officer()
    account = open_account(base_limit="5000.00")
    buy(account, "4000.00", now=shanghai(2026, 1, 6, 12, 0))
    rescore(account, "3000.00")
    with capture_events() as events:
        limit_set(
            account=account,
            new_base_limit=D("4000.00"),
            reason_codes=[ReasonCode.APPEAL_APPROVED],
            actor=officer,
            note="appeal #12: income proof",
            now=shanghai(2026, 3, 11, 10, 0),
        )
    account.refresh_from_db()
    assert account.status == AccountStatus.RESTORED
    # The customer is told the real cause: the appeal, not a repayment.
    assert account.status_reason_codes == [ReasonCode.APPEAL_APPROVED]
    assert StateLog.objects.for_(account).latest("id").by == officer
    assert [e.event for e in events] == [EventType.ACCOUNT_RESTORED, EventType.LIMIT_RAISED]
    assert events[0].context["reason_codes"] == [ReasonCode.APPEAL_APPROVED]
    assert ledger_check().ok


def test_a_staff_override_needs_reason_codes_and_a_note_and_writes_nothing_without():
    officer = people.officer()
    account = open_account()
    before = row_counts()
    for codes, note in (([], "note"), ([ReasonCode.STAFF_DECISION], " ")):
        with pytest.raises(ReasonRequired):
            limit_set(
                account=account,
                new_base_limit=D("1.00"),
                reason_codes=codes,
                actor=officer,
                note=note,
                now=NOW,
            )
    assert row_counts() == before


def test_a_negative_limit_is_refused():
    account = open_account()
    with pytest.raises(InvalidAmount):
        rescore(account, "-1.00")


def test_a_started_temporary_grant_raises_the_effective_limit_now():
    account = open_account(base_limit="2000.00")
    with capture_events() as events:
        grant = temporary_limit_grant(
            account=account,
            amount=D("1000.00"),
            starts_at=NOW - timedelta(hours=1),
            ends_at=NOW + timedelta(days=10),
            campaign="618",
            now=NOW,
        )
    account.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    assert (account.base_limit, account.effective_limit) == (D("2000.00"), D("3000.00"))
    change = LimitChange.objects.filter(account=account).latest("id")
    assert (change.kind, change.old_effective_limit, change.new_effective_limit) == (
        LimitChangeKind.TEMPORARY_GRANT,
        D("2000.00"),
        D("3000.00"),
    )
    assert change.reason_codes == [ReasonCode.CAMPAIGN]
    assert [e.event for e in events] == [EventType.TEMPORARY_LIMIT_GRANTED]
    assert buy(account, "2500.00", now=NOW).amount == D("2500.00")
    assert ledger_check().ok


def test_a_future_grant_waits_without_changing_the_limit():
    account = open_account(base_limit="2000.00")
    grant = temporary_limit_grant(
        account=account,
        amount=D("1000.00"),
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=10),
        reason="double eleven",
        now=NOW,
    )
    account.refresh_from_db()
    assert grant.status == GrantStatus.SCHEDULED
    assert account.effective_limit == D("2000.00")
    assert LimitChange.objects.filter(account=account).count() == 1


def test_a_grant_can_restore_a_negative_account():
    account = open_account(base_limit="2000.00")
    buy(account, "1800.00", now=shanghai(2026, 1, 6, 12, 0))
    rescore(account, "1000.00")
    temporary_limit_grant(
        account=account,
        amount=D("800.00"),
        starts_at=NOW,
        ends_at=NOW + timedelta(days=30),
        reason="goodwill after complaint",
        actor=people.manager(),
        now=NOW,
    )
    account.refresh_from_db()
    assert (account.status, account.available) == (AccountStatus.RESTORED, D("0.00"))
    assert ledger_check().ok


@pytest.mark.parametrize(
    ("amount", "starts", "ends"),
    [("0", 0, 5), ("-5", 0, 5), ("100", 5, 5), ("100", 5, 1), ("100", -10, -1)],
)
def test_a_bad_grant_is_refused_and_writes_nothing(amount, starts, ends):
    account = open_account()
    before = row_counts()
    with pytest.raises(InvalidAmount):
        temporary_limit_grant(
            account=account,
            amount=D(amount),
            starts_at=NOW + timedelta(days=starts),
            ends_at=NOW + timedelta(days=ends),
            campaign="x",
            now=NOW,
        )
    assert row_counts() == before


def test_a_staff_grant_needs_a_reason():
    account = open_account()
    with pytest.raises(ReasonRequired):
        temporary_limit_grant(
            account=account,
            amount=D("100"),
            starts_at=NOW,
            ends_at=NOW + timedelta(days=1),
            actor=people.manager(),
            now=NOW,
        )


def test_a_closed_account_gets_no_temporary_limit():
    account = open_account()
    account_close(account=account, now=NOW)
    before = row_counts()
    with pytest.raises(AccountClosed):
        temporary_limit_grant(
            account=account,
            amount=D("100"),
            starts_at=NOW,
            ends_at=NOW + timedelta(days=1),
            campaign="618",
            now=NOW,
        )
    assert row_counts() == before
