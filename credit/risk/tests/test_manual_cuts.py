"""Staff cuts get the cooling-off of automated ones: a cut that needs notice is announced and
waits (an appeal holds it); a listed reason acts at once, with reasons and an appeal link."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.roles import Role
from core.reasons import ReasonCode
from credit.models import AccountStatus, LimitChange, LimitChangeKind
from credit.risk.errors import CoolingOffNotOver, PendingDecreaseExists
from credit.risk.manual import limit_change_by_staff, limit_cut_announce
from credit.risk.models import PendingLimitDecrease, PendingStatus, RescoringDecision
from credit.risk.pending import pending_decrease_confirm
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, assert_invariants, bands
from credit.services import CutNeedsNotice, ReasonRequired, limit_set
from testkit import reload
from testkit.credit import buy, open_account, row_counts
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal
NOW = RUN_AT - timedelta(days=1)


@pytest.fixture
def officer():
    return staff(Role.RISK_OFFICER)


@pytest.fixture
def owing():
    """Limit 10,000.00, owing 6,000.00: a cut to 5,000.00 is 50 % and leaves available < 0."""
    account = open_account("10000.00", now=OPENED_AT)
    buy(account, "6000.00", term=3, now=NOW - timedelta(days=2))
    return account


def cut(account, officer, new, *codes, at=NOW):
    return limit_change_by_staff(
        account=account,
        new_base_limit=D(new),
        reason_codes=list(codes or [ReasonCode.STAFF_DECISION]),
        note="income proof no longer valid",
        actor=officer,
        now=at,
    )


def test_a_large_staff_cut_is_announced_not_applied_and_the_customer_told_with_an_appeal_link(
    owing, officer, settings
):
    with capture_events() as events:
        pending = cut(owing, officer, "5000.00")

    assert isinstance(pending, PendingLimitDecrease)
    assert (pending.kind, pending.status, pending.announced_by, pending.run) == (
        LimitChangeKind.ANNOUNCED_CUT,
        PendingStatus.PENDING,
        officer,
        None,
    )
    assert pending.effective_at == NOW + timedelta(hours=settings.RISK_COOLING_OFF_HOURS)
    account = reload(owing)
    assert (account.base_limit, account.status) == (D("10000.00"), AccountStatus.ACTIVE)
    assert not LimitChange.objects.filter(account=account, kind="MANUAL_OVERRIDE").exists()
    [notice] = events
    assert notice.event == "LIMIT_DECREASE_PENDING"
    assert notice.context["reason_codes"] == ["STAFF_DECISION"]
    assert notice.context["appeal_url"].endswith(f"pending={pending.pk}")
    assert (notice.context["old_limit"], notice.context["new_limit"]) == ("10000.00", "5000.00")


def test_a_small_staff_cut_applies_at_once_with_an_appeal_link(owing, officer):
    with capture_events() as events:
        change = cut(owing, officer, "8000.00")  # 20 %, available stays ≥ 0
    assert (change.kind, reload(owing).base_limit) == (
        LimitChangeKind.MANUAL_OVERRIDE,
        D("8000.00"),
    )
    [notice] = events
    assert notice.event == "LIMIT_CUT"
    assert notice.context["appeal_url"] == f"/appeals/new/?kind=limit_change&target={change.pk}"


@pytest.mark.parametrize(
    "reason",
    [
        ReasonCode.FRAUD_CONFIRMED,
        ReasonCode.LEGAL_ORDER,
        ReasonCode.DECEASED,
        ReasonCode.CUSTOMER_REQUEST,
    ],
)
def test_a_listed_reason_cuts_at_once_still_with_reasons_and_an_appeal_link(owing, officer, reason):
    with capture_events() as events:
        change = cut(owing, officer, "5000.00", ReasonCode.STAFF_DECISION, reason)
    account = reload(owing)
    assert (account.base_limit, account.status) == (D("5000.00"), AccountStatus.NEGATIVE)
    assert change.reason_codes == ["STAFF_DECISION", reason]
    cut_notice = next(e for e in events if e.event == "LIMIT_CUT")
    assert cut_notice.context["reason_codes"] == ["STAFF_DECISION", reason]
    assert cut_notice.context["appeal_url"].endswith(f"target={change.pk}")
    assert not PendingLimitDecrease.objects.exists()
    assert_invariants()


def test_limit_set_refuses_a_large_staff_cut_without_a_listed_reason_and_writes_nothing(
    owing, officer
):
    before = row_counts()
    with pytest.raises(CutNeedsNotice) as refused:
        limit_set(
            account=owing,
            new_base_limit=D("5000.00"),
            reason_codes=[ReasonCode.STAFF_DECISION],
            note="x",
            actor=officer,
            now=NOW,
        )
    assert refused.value.http_status == 409
    assert row_counts() == before
    assert reload(owing).base_limit == D("10000.00")


def test_the_announced_cut_is_confirmed_by_staff_only_after_the_wait(owing, officer, settings):
    pending = cut(owing, officer, "5000.00")
    with pytest.raises(CoolingOffNotOver):
        pending_decrease_confirm(pending=pending, actor=officer, now=NOW, note="go")
    later = pending.effective_at + timedelta(minutes=1)
    with capture_events() as events:
        pending = pending_decrease_confirm(pending=pending, actor=officer, now=later, note="go")
    account = reload(owing)
    assert (account.base_limit, account.status) == (D("5000.00"), AccountStatus.NEGATIVE)
    assert pending.limit_change.kind == LimitChangeKind.ANNOUNCED_CUT
    assert {"LIMIT_CUT", "ACCOUNT_NEGATIVE"} <= {e.event for e in events}
    assert_invariants()


def test_one_announcement_at_a_time(owing, officer):
    cut(owing, officer, "5000.00")
    with pytest.raises(PendingDecreaseExists):
        limit_cut_announce(
            account=owing,
            new_base_limit=D("4000.00"),
            reason_codes=[ReasonCode.STAFF_DECISION],
            note="again",
            actor=officer,
            now=NOW,
        )


def test_a_run_confirms_a_due_staff_cut_whatever_the_score_and_holds_one_still_waiting(
    officer, settings
):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "50000")))  # the score would rather raise
    due = open_account("10000.00", now=OPENED_AT)
    waiting = open_account("10000.00", now=OPENED_AT)
    announced = cut(due, officer, "5000.00", at=RUN_AT - timedelta(hours=80))
    cut(waiting, officer, "5000.00", at=RUN_AT - timedelta(hours=1))

    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT)
    run_execute(run=run, now=RUN_AT)

    assert reload(announced).status == PendingStatus.CONFIRMED
    assert reload(due).base_limit == D("5000.00")
    assert reload(waiting).base_limit == D("10000.00")
    assert PendingLimitDecrease.objects.get(account=waiting).status == PendingStatus.PENDING
    held = RescoringDecision.objects.get(run=run, account=waiting)
    assert (held.action, held.pending_action) == ("HOLD", "WAIT")
    assert_invariants()


def test_rolling_back_the_run_that_confirmed_a_staff_cut_keeps_the_staff_cut(officer, settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "10000")))
    account = open_account("10000.00", now=OPENED_AT)
    cut(account, officer, "5000.00", at=RUN_AT - timedelta(hours=80))
    run = run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    assert reload(account).base_limit == D("5000.00")

    run_rollback(run=run, actor=staff(Role.RISK_MANAGER), now=RUN_AT + timedelta(hours=1))

    assert reload(account).base_limit == D("5000.00")


def test_the_database_refuses_a_staff_cut_without_its_author_or_from_a_run(owing, officer):
    pending = cut(owing, officer, "5000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        PendingLimitDecrease.objects.filter(pk=pending.pk).update(announced_by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        PendingLimitDecrease.objects.filter(pk=pending.pk).update(kind=LimitChangeKind.RESCORE)


def test_a_reason_to_cut_at_once_acts_on_a_cut_is_not_recorded_on_a_raise_and_must_be_listed(
    owing, officer
):
    common = {"note": "checked", "actor": officer, "now": NOW}
    with pytest.raises(ReasonRequired):
        limit_change_by_staff(
            account=owing,
            new_base_limit=D("5000.00"),
            reason_codes=[ReasonCode.STAFF_DECISION],
            cut_at_once=ReasonCode.STAFF_DECISION,  # not a reason that acts at once
            **common,
        )
    raised = limit_change_by_staff(
        account=owing,
        new_base_limit=D("12000.00"),
        reason_codes=[ReasonCode.STAFF_DECISION],
        cut_at_once=ReasonCode.LEGAL_ORDER,
        **common,
    )
    assert raised.reason_codes == [ReasonCode.STAFF_DECISION]
    cut_now = limit_change_by_staff(
        account=owing,
        new_base_limit=D("5000.00"),
        reason_codes=[ReasonCode.STAFF_DECISION],
        cut_at_once=ReasonCode.LEGAL_ORDER,
        **common,
    )
    assert isinstance(cut_now, LimitChange)
    assert cut_now.reason_codes == [ReasonCode.STAFF_DECISION, ReasonCode.LEGAL_ORDER]
    assert reload(owing).base_limit == D("5000.00")
