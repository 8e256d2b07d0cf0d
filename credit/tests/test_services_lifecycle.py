"""account_open / freeze / unfreeze / close: status, audit (StateLog, LimitChange) and events."""

from decimal import Decimal

import pytest
from django_fsm_log.models import StateLog

from conftest import shanghai
from core.events import EventType
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import AccountStatus, FreezeReason, Installment, LimitChange, LimitChangeKind
from credit.services import (
    AccountHasBalance,
    ReasonRequired,
    TransitionRefused,
    account_close,
    account_freeze,
    account_unfreeze,
    limit_set,
    purchase_refund,
)
from testkit import people
from testkit.credit import buy, open_account, repay, row_counts
from testkit.events import capture_events

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def logs(account) -> list[tuple[str, str, str]]:
    return [
        (log.source_state, log.state, log.transition)
        for log in StateLog.objects.for_(account).order_by("id")
    ]


def test_opening_an_account_records_who_set_the_first_limit():
    officer = people.officer()
    account = open_account(base_limit="8000.00", due_day=31)
    assert (account.status, account.due_day, account.available) == (
        AccountStatus.ACTIVE,
        31,
        D("8000.00"),
    )
    [change] = LimitChange.objects.filter(account=account)
    assert (change.kind, change.old_base_limit, change.new_base_limit) == (
        LimitChangeKind.ACCOUNT_OPEN,
        D("0.00"),
        D("8000.00"),
    )
    assert change.reason_codes == [ReasonCode.ACCOUNT_OPENED]
    assert officer.pk != change.actor_id  # opened by the system here: actor is optional
    assert ledger_check().ok


def test_staff_freeze_needs_a_note_and_writes_nothing_without_one():
    officer = people.officer()
    account = open_account()
    before = row_counts()
    with capture_events() as events, pytest.raises(ReasonRequired) as refused:
        account_freeze(
            account=account, reason=FreezeReason.STAFF, actor=officer, note="  ", now=NOW
        )
    assert refused.value.code == "reason_required"
    assert row_counts() == before
    assert events == []


def test_an_unknown_freeze_reason_is_refused():
    account = open_account()
    with pytest.raises(ReasonRequired):
        account_freeze(account=account, reason="BECAUSE", now=NOW)


def test_a_staff_freeze_logs_who_and_why_and_tells_the_customer():
    officer = people.officer()
    account = open_account()
    with capture_events() as events:
        account_freeze(
            account=account,
            reason=FreezeReason.STAFF,
            actor=officer,
            note="suspected account takeover",
            now=NOW,
        )
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN
    assert account.freeze_reasons == [FreezeReason.STAFF]
    assert account.status_reason_codes == [ReasonCode.STAFF_DECISION]
    assert account.status_changed_at == NOW
    assert account.pre_incident_limit == D("10000.00")
    log = StateLog.objects.for_(account).get()
    assert (log.by, log.transition, log.state) == (officer, "freeze", AccountStatus.FROZEN)
    assert log.timestamp == NOW  # the business instant, as status_changed_at
    assert log.description == "STAFF_DECISION | suspected account takeover"
    assert [e.event for e in events] == [EventType.ACCOUNT_FROZEN]
    assert events[0].context["reason_codes"] == [ReasonCode.STAFF_DECISION]
    assert ledger_check().ok


def test_freezing_a_frozen_account_adds_the_reason_without_a_second_transition():
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.OVERDUE, now=NOW)
    with capture_events() as events:
        account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=NOW)
    account.refresh_from_db()
    assert account.freeze_reasons == [FreezeReason.OVERDUE, FreezeReason.RISK_RULE]
    assert len(logs(account)) == 1
    assert events == []


def test_unfreezing_lifts_to_restored_on_probation():
    officer = people.officer()
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.RISK_RULE, now=NOW)
    later = shanghai(2026, 3, 12, 15, 0)
    with capture_events() as events:
        account_unfreeze(account=account, actor=officer, note="cleared by review", now=later)
    account.refresh_from_db()
    assert (account.status, account.freeze_reasons, account.restored_at) == (
        AccountStatus.RESTORED,
        [],
        later,
    )
    assert logs(account)[-1] == ("FROZEN", "RESTORED", "unfreeze")
    assert [e.event for e in events] == [EventType.ACCOUNT_UNFROZEN]
    assert ledger_check().ok


def test_unfreezing_an_account_cut_below_what_it_owes_lands_in_negative():
    account = open_account(base_limit="1000.00")
    buy(account, "900.00", now=shanghai(2026, 1, 6, 12, 0))
    account_freeze(account=account, reason=FreezeReason.OVERDUE, now=NOW)
    limit_set(
        account=account,
        new_base_limit=D("500.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.CURRENTLY_PAST_DUE],
        run_id=9,
        now=NOW,
    )
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN  # a frozen account stays frozen
    with capture_events() as events:
        account_unfreeze(account=account, now=shanghai(2026, 3, 20, 2, 0))
    account.refresh_from_db()
    assert account.status == AccountStatus.NEGATIVE
    assert account.restored_at is None
    assert [e.event for e in events] == [EventType.ACCOUNT_UNFROZEN, EventType.ACCOUNT_NEGATIVE]
    assert ledger_check().ok


def test_staff_unfreeze_needs_a_note():
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.STAFF, now=NOW)
    with pytest.raises(ReasonRequired):
        account_unfreeze(account=account, actor=people.officer(), now=NOW)
    account.refresh_from_db()
    assert account.status == AccountStatus.FROZEN


def test_unfreezing_an_account_that_is_not_frozen_is_refused():
    account = open_account()
    before = row_counts()
    with pytest.raises(TransitionRefused) as refused:
        account_unfreeze(account=account, now=NOW)
    assert (refused.value.code, refused.value.http_status) == ("transition_refused", 409)
    assert row_counts() == before


def test_curing_one_reason_keeps_the_account_frozen_while_another_remains():
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.OVERDUE, now=NOW)
    account_freeze(account=account, reason=FreezeReason.COMPLIANCE, now=NOW)
    account_unfreeze(
        account=account,
        only_reason=FreezeReason.OVERDUE,
        reason_codes=[ReasonCode.OVERDUE_CURED],
        now=NOW,
    )
    account.refresh_from_db()
    assert (account.status, account.freeze_reasons) == (
        AccountStatus.FROZEN,
        [FreezeReason.COMPLIANCE],
    )
    account_unfreeze(
        account=account,
        only_reason=FreezeReason.COMPLIANCE,
        reason_codes=[ReasonCode.COMPLIANCE],
        now=NOW,
    )
    account.refresh_from_db()
    assert account.status == AccountStatus.RESTORED
    assert account.status_reason_codes == [ReasonCode.COMPLIANCE]


def test_an_account_closes_only_at_zero_balance():
    account = open_account()
    buy(account, "300.00", term=1, now=shanghai(2026, 1, 6, 12, 0))
    with pytest.raises(TransitionRefused):
        account_close(account=account, now=NOW)
    repay(account, "300.00", now=shanghai(2026, 2, 10, 9, 0))
    account_close(account=account, now=NOW)
    account.refresh_from_db()
    assert (account.status, account.closed_at) == (AccountStatus.CLOSED, NOW)
    assert logs(account)[-1] == ("ACTIVE", "CLOSED", "close")
    assert ledger_check().ok


def test_an_account_owing_only_a_penalty_cannot_close():
    account = open_account()
    purchase = buy(account, "300.00", term=1, now=shanghai(2026, 1, 6, 12, 0))
    # A penalty accrued (as the daily close does), then the merchant refunded the principal.
    Installment.objects.filter(plan__purchase=purchase).update(penalty=D("4.50"))
    purchase_refund(purchase=purchase, amount="300.00", idempotency_key="refund-all", now=NOW)
    account.refresh_from_db()
    assert account.outstanding_principal == 0
    with pytest.raises(AccountHasBalance):
        account_close(account=account, now=NOW)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_an_account_with_a_credit_balance_cannot_close():
    account = open_account()
    repay(account, "5.00", now=NOW)
    with pytest.raises(TransitionRefused):
        account_close(account=account, now=NOW)


def test_a_closed_account_cannot_be_frozen():
    account = open_account()
    account_close(account=account, now=NOW)
    with pytest.raises(TransitionRefused):
        account_freeze(account=account, reason=FreezeReason.STAFF, now=NOW)
