"""What an approved appeal does to the account, through the real credit services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_fsm_log.models import StateLog

from appeals import services
from appeals.errors import DecisionNotApplicable
from appeals.models import AppealStatus
from appeals.tests.factories import NOW, cut, freeze, frozen_appeal, in_review, submit
from core.events import EventType
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    CreditAccount,
    DecisionReversal,
    LimitChange,
    LimitChangeKind,
    ReversalSource,
)
from credit.services import account_unfreeze
from testkit import reload
from testkit.credit import buy, launch_fee_schedule, open_account, row_counts
from testkit.people import officer

pytestmark = pytest.mark.django_db
D = Decimal
DECIDE_AT = NOW + timedelta(hours=3)


def approve(appeal, reviewer, **kwargs):
    return services.appeal_decide(
        appeal=appeal,
        actor=reviewer,
        outcome=AppealStatus.APPROVED,
        note=kwargs.pop("note", "Checked: the cut used stale data."),
        now=kwargs.pop("now", DECIDE_AT),
        **kwargs,
    )


def account_of(appeal) -> CreditAccount:
    return CreditAccount.objects.get(pk=appeal.account_id)


def test_an_approved_limit_decrease_appeal_restores_the_previous_limit(events):
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    appeal = submit(account, "limit_change", change)
    reviewer = in_review(appeal, officer()).assigned_to

    approve(appeal, reviewer)

    account = account_of(appeal)
    assert account.base_limit == D("10000.00")
    assert account.effective_limit == D("10000.00")
    restored = LimitChange.objects.filter(account=account).latest("pk")
    assert restored.kind == LimitChangeKind.APPEAL
    assert restored.reason_codes == [ReasonCode.APPEAL_APPROVED, ReasonCode.OUR_ERROR]
    assert (restored.old_base_limit, restored.new_base_limit) == (D("4000.00"), D("10000.00"))
    assert restored.actor == reviewer and restored.created_at == DECIDE_AT
    appeal = reload(appeal)
    assert appeal.status == AppealStatus.APPROVED
    assert appeal.effect_reference == f"credit.limitchange:{restored.pk}"
    assert appeal.restored_amount == D("6000.00")
    customer_events = [e.event for e in events if e.user_id == account.customer_id]
    # An upheld appeal is a reversal: the customer reads what was put right, once.
    assert EventType.DECISION_REVERSED in customer_events
    assert EventType.LIMIT_RAISED not in customer_events
    assert customer_events.count(EventType.APPEAL_DECIDED) == 1


def test_restoring_a_cut_that_made_the_account_negative_also_restores_its_status():
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "6000.00", now=NOW - timedelta(days=5))
    change = cut(account, "3000.00")
    assert account_of_pk(account).status == AccountStatus.NEGATIVE
    appeal = submit(account, "limit_change", change)

    approve(appeal, officer())

    account = account_of_pk(account)
    assert account.base_limit == D("10000.00")
    # As if the cut never happened: ACTIVE, not RESTORED on probation.
    assert account.status == AccountStatus.ACTIVE
    assert account.probation_limit_cap is None and account.pre_incident_limit is None
    assert account.available == D("4000.00")
    log = StateLog.objects.for_(account).latest("pk")
    assert (log.transition, log.state) == ("reverse", AccountStatus.ACTIVE)


def account_of_pk(account):
    return CreditAccount.objects.get(pk=account.pk)


def test_a_limit_cut_appeal_is_not_applicable_once_the_limit_is_back():
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    appeal = submit(account, "limit_change", change)
    reviewer = officer()
    in_review(appeal, reviewer)
    cut(account, "10000.00", now=NOW + timedelta(hours=1))  # a later rescore raised it again
    before = row_counts()

    with pytest.raises(DecisionNotApplicable):
        approve(appeal, reviewer)

    assert row_counts() == before
    assert reload(appeal).status == AppealStatus.IN_REVIEW


def test_an_approved_freeze_appeal_unfreezes_the_account(events):
    appeal = frozen_appeal()
    reviewer = officer()

    approve(appeal, reviewer, note="The shared-IP rule misfired on a university network.")

    account = account_of(appeal)
    assert account.status == AccountStatus.ACTIVE
    assert account.freeze_reasons == []
    assert account.probation_limit_cap is None and account.pre_incident_limit is None
    assert account.status_reason_codes == [ReasonCode.APPEAL_APPROVED, ReasonCode.OUR_ERROR]
    log = StateLog.objects.for_(account).latest("pk")
    assert (log.transition, log.source_state, log.state) == ("reverse", "FROZEN", "ACTIVE")
    assert log.by == reviewer
    assert log.description.startswith(ReasonCode.APPEAL_APPROVED)
    assert f"appeal #{appeal.pk}" in log.description
    assert EventType.DECISION_REVERSED in [e.event for e in events]
    assert EventType.ACCOUNT_UNFROZEN not in [e.event for e in events]
    reversal = DecisionReversal.objects.get(account=account)
    assert reversal.source == ReversalSource.APPEAL
    assert reversal.wrong_id is not None and reversal.source_ref == f"appeals.appeal:{appeal.pk}"
    assert reload(appeal).effect_reference == f"credit.creditaccount:{account.pk}"


def test_a_freeze_appeal_cannot_be_approved_after_staff_already_unfroze_the_account():
    appeal = frozen_appeal()
    reviewer = officer()
    in_review(appeal, reviewer)
    account_unfreeze(account=appeal.account, now=NOW, actor=reviewer, note="manual")
    before = row_counts()

    with pytest.raises(DecisionNotApplicable):
        approve(appeal, reviewer)

    assert row_counts() == before
    assert reload(appeal).status == AppealStatus.IN_REVIEW


def test_a_restoration_by_default_returns_the_pre_incident_limit_and_unfreezes():
    account = open_account("8000.00")
    cut(account, "2000.00")  # pre-incident limit is remembered only by freeze / go_negative
    freeze(account)
    account = account_of_pk(account)
    assert account.pre_incident_limit == D("2000.00")
    appeal = submit(account, "restoration", reason="My new job's contract is attached here.")

    approve(appeal, officer())

    account = account_of_pk(account)
    assert account.status == AccountStatus.RESTORED
    assert account.base_limit == D("2000.00")  # nothing higher than before the incident


def test_a_restoration_of_a_negative_account_returns_the_pre_incident_limit():
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "5000.00", now=NOW - timedelta(days=5))
    cut(account, "1000.00")
    account = account_of_pk(account)
    assert account.status == AccountStatus.NEGATIVE
    assert account.pre_incident_limit == D("10000.00")
    appeal = submit(account, "restoration", reason="I repaid other debts; please look again.")

    approve(appeal, officer())

    account = account_of_pk(account)
    assert account.base_limit == D("10000.00")
    assert account.status == AccountStatus.RESTORED
    # Servicing's close sets the probation cap on RESTORED accounts and lifts it in steps.
    assert account.pre_incident_limit == D("10000.00")
    change = LimitChange.objects.filter(account=account).latest("pk")
    assert change.kind == LimitChangeKind.APPEAL


def test_a_reviewer_may_set_the_restored_limit():
    launch_fee_schedule()
    account = open_account("10000.00")
    buy(account, "5000.00", now=NOW - timedelta(days=5))
    cut(account, "1000.00")
    appeal = submit(account, "restoration", reason="I repaid other debts; please look again.")

    approve(appeal, officer(), restore_to=D("6000.00"))

    account = account_of_pk(account)
    assert account.base_limit == D("6000.00")
    assert reload(appeal).restore_to == D("6000.00")


def test_a_restoration_without_a_pre_incident_limit_needs_an_amount():
    launch_fee_schedule()
    account = open_account("1000.00")
    buy(account, "1000.00", now=NOW - timedelta(days=3))
    appeal = submit(account, "restoration", reason="I need my limit back for school fees.")
    reviewer = officer()
    in_review(appeal, reviewer)

    with pytest.raises(DecisionNotApplicable):
        approve(appeal, reviewer)
    approve(appeal, reviewer, restore_to=D("3000.00"))

    assert account_of_pk(account).base_limit == D("3000.00")


def test_a_rejection_changes_nothing_on_the_account_and_tells_the_customer_why(events):
    account = open_account("10000.00")
    change = cut(account, "4000.00")
    appeal = submit(account, "limit_change", change)
    reviewer = officer()
    before = (LimitChange.objects.count(), account_of_pk(account).base_limit)

    services.appeal_decide(
        appeal=appeal,
        actor=reviewer,
        outcome=AppealStatus.REJECTED,
        note="Two late repayments in February.",
        customer_reason="Two repayments in February were late; we will review again in May.",
        now=DECIDE_AT,
    )

    assert (LimitChange.objects.count(), account_of_pk(account).base_limit) == before
    appeal = reload(appeal)
    assert appeal.status == AppealStatus.REJECTED
    assert appeal.decision_note == "Two late repayments in February."
    decided = [e for e in events if e.event == EventType.APPEAL_DECIDED]
    assert [(e.user_id, e.context["outcome"]) for e in decided] == [
        (account.customer_id, "REJECTED")
    ]
    assert "May" in decided[0].context["customer_reason"]
