"""Every transition of the appeal lifecycle, allowed and refused, logged with actor and time."""

from datetime import timedelta

import pytest
from django_fsm import TransitionNotAllowed
from django_fsm_log.models import StateLog

from accounts.roles import Role
from appeals import services
from appeals.errors import (
    AppealAlreadyDecided,
    AppealNotFound,
    AppealTransitionRefused,
    NoteRequired,
    RejectionReasonRequired,
)
from appeals.models import AppealMessage, AppealStatus, MessageAuthor
from appeals.tests.factories import NOW, frozen_appeal, in_review
from core.events import EventType
from core.permissions import NotPermitted
from testkit import reload
from testkit.credit import open_account
from testkit.people import manager, officer, staff

pytestmark = pytest.mark.django_db
LATER = NOW + timedelta(hours=1)


def steps(appeal):
    return [
        (log.transition, log.source_state, log.state, log.by_id, log.timestamp)
        for log in StateLog.objects.for_(appeal).order_by("timestamp", "pk")
    ]


def test_assigning_a_new_appeal_starts_the_review_and_logs_who_and_when():
    appeal = frozen_appeal()
    reviewer = officer()

    services.appeal_assign(appeal=appeal, actor=reviewer, now=LATER)

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.IN_REVIEW
    assert appeal.assigned_to == reviewer
    assert steps(appeal)[-1] == (
        "start_review",
        AppealStatus.SUBMITTED,
        AppealStatus.IN_REVIEW,
        reviewer.pk,
        LATER,
    )


def test_reassigning_an_appeal_in_review_is_logged_without_changing_its_state():
    appeal = in_review(frozen_appeal(), officer())
    other = officer()

    services.appeal_assign(appeal=appeal, actor=other, now=LATER)

    appeal = reload(appeal)
    assert appeal.assigned_to == other and appeal.status == AppealStatus.IN_REVIEW
    assert steps(appeal)[-1][:4] == (
        "assign",
        AppealStatus.IN_REVIEW,
        AppealStatus.IN_REVIEW,
        other.pk,
    )


def test_the_full_path_submitted_review_needs_info_answer_review_rejected(events):
    appeal = frozen_appeal()
    customer = appeal.customer
    reviewer = officer()

    services.appeal_assign(appeal=appeal, actor=reviewer, now=NOW + timedelta(hours=1))
    services.appeal_request_info(
        appeal=appeal,
        actor=reviewer,
        note="Please upload your last three months of bank statements.",
        now=NOW + timedelta(hours=2),
    )
    assert reload(appeal).status == AppealStatus.NEEDS_INFO
    services.appeal_answer(
        appeal=appeal, customer=customer, text="Attached.", now=NOW + timedelta(hours=5)
    )
    assert reload(appeal).status == AppealStatus.IN_REVIEW
    services.appeal_decide(
        appeal=appeal,
        actor=reviewer,
        outcome=AppealStatus.REJECTED,
        note="Statements show repeated gambling transfers.",
        customer_reason="Your account shows activity our risk rules do not allow.",
        now=NOW + timedelta(hours=6),
    )

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.REJECTED
    assert appeal.decided_by == reviewer and appeal.decided_at == NOW + timedelta(hours=6)
    assert appeal.customer_reason == "Your account shows activity our risk rules do not allow."
    assert [s[:4] for s in steps(appeal)] == [
        ("submit", None, "SUBMITTED", customer.pk),
        ("start_review", "SUBMITTED", "IN_REVIEW", reviewer.pk),
        ("request_info", "IN_REVIEW", "NEEDS_INFO", reviewer.pk),
        ("answer", "NEEDS_INFO", "IN_REVIEW", customer.pk),
        ("reject", "IN_REVIEW", "REJECTED", reviewer.pk),
    ]
    assert [s[4] for s in steps(appeal)] == [NOW + timedelta(hours=h) for h in (0, 1, 2, 5, 6)]
    thread = list(AppealMessage.objects.filter(appeal=appeal).order_by("created_at"))
    assert [(m.author_side, m.body) for m in thread] == [
        (MessageAuthor.STAFF, "Please upload your last three months of bank statements."),
        (MessageAuthor.CUSTOMER, "Attached."),
    ]
    customer_events = [e.event for e in events if e.user_id == customer.pk]
    assert customer_events.count(EventType.APPEAL_RECEIVED) == 1
    assert customer_events.count(EventType.APPEAL_NEEDS_INFO) == 1
    decided = [e for e in events if e.event == EventType.APPEAL_DECIDED]
    assert len(decided) == 1
    assert decided[0].context["outcome"] == "REJECTED"
    assert decided[0].context["customer_reason"] == appeal.customer_reason


def test_deciding_a_submitted_appeal_starts_the_review_first():
    appeal = frozen_appeal()
    reviewer = officer()

    services.appeal_decide(
        appeal=appeal,
        actor=reviewer,
        outcome=AppealStatus.REJECTED,
        note="n",
        customer_reason="r",
        now=LATER,
    )

    assert [s[0] for s in steps(appeal)] == ["submit", "start_review", "reject"]
    assert reload(appeal).assigned_to == reviewer


@pytest.mark.parametrize(
    "state", [AppealStatus.SUBMITTED, AppealStatus.IN_REVIEW, AppealStatus.NEEDS_INFO]
)
def test_the_customer_may_withdraw_an_open_appeal(state):
    appeal = frozen_appeal()
    reviewer = officer()
    if state != AppealStatus.SUBMITTED:
        in_review(appeal, reviewer)
    if state == AppealStatus.NEEDS_INFO:
        services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=NOW)

    services.appeal_withdraw(appeal=appeal, customer=appeal.customer, now=LATER)

    appeal = reload(appeal)
    assert appeal.status == AppealStatus.WITHDRAWN
    assert appeal.withdrawn_at == LATER
    assert steps(appeal)[-1][:4] == ("withdraw", state, "WITHDRAWN", appeal.customer_id)


def test_a_decided_appeal_cannot_be_withdrawn_decided_again_or_answered():
    appeal = frozen_appeal()
    reviewer = officer()
    services.appeal_decide(
        appeal=appeal,
        actor=reviewer,
        outcome=AppealStatus.REJECTED,
        note="n",
        customer_reason="r",
        now=NOW,
    )
    before = steps(appeal)

    with pytest.raises(AppealTransitionRefused):
        services.appeal_withdraw(appeal=appeal, customer=appeal.customer, now=LATER)
    with pytest.raises(AppealAlreadyDecided):
        services.appeal_decide(
            appeal=appeal,
            actor=reviewer,
            outcome=AppealStatus.APPROVED,
            note="n",
            now=LATER,
        )
    with pytest.raises(AppealAlreadyDecided):
        services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=LATER)
    with pytest.raises(AppealAlreadyDecided):
        services.appeal_assign(appeal=appeal, actor=reviewer, now=LATER)
    with pytest.raises(AppealTransitionRefused):
        services.appeal_answer(appeal=appeal, customer=appeal.customer, text="hi", now=LATER)
    with pytest.raises(AppealTransitionRefused):
        services.appeal_message_add(appeal=appeal, author=appeal.customer, body="hi", now=LATER)
    assert steps(appeal) == before


def test_a_withdrawn_appeal_cannot_be_reviewed_or_decided():
    appeal = frozen_appeal()
    services.appeal_withdraw(appeal=appeal, customer=appeal.customer, now=NOW)
    reviewer = officer()
    for call in (
        lambda: services.appeal_assign(appeal=appeal, actor=reviewer, now=LATER),
        lambda: services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=LATER),
        lambda: services.appeal_decide(
            appeal=appeal,
            actor=reviewer,
            outcome=AppealStatus.REJECTED,
            note="n",
            customer_reason="r",
            now=LATER,
        ),
    ):
        with pytest.raises(AppealTransitionRefused):
            call()
    assert reload(appeal).status == AppealStatus.WITHDRAWN


def test_the_customer_can_answer_only_when_information_was_requested():
    appeal = in_review(frozen_appeal(), officer())
    with pytest.raises(AppealTransitionRefused):
        services.appeal_answer(appeal=appeal, customer=appeal.customer, text="hi", now=LATER)
    assert reload(appeal).status == AppealStatus.IN_REVIEW


def test_an_appeal_waiting_for_the_customer_cannot_be_decided_or_asked_again():
    reviewer = officer()
    appeal = in_review(frozen_appeal(), reviewer)
    services.appeal_request_info(appeal=appeal, actor=reviewer, note="?", now=NOW)

    with pytest.raises(AppealTransitionRefused):
        services.appeal_decide(
            appeal=appeal, actor=reviewer, outcome=AppealStatus.APPROVED, note="n", now=LATER
        )
    with pytest.raises(AppealTransitionRefused):
        services.appeal_request_info(appeal=appeal, actor=reviewer, note="again?", now=LATER)
    assert reload(appeal).status == AppealStatus.NEEDS_INFO


def test_the_model_refuses_transitions_outside_the_graph():
    appeal = frozen_appeal()
    with pytest.raises(TransitionNotAllowed):
        appeal.answer(at=LATER)
    with pytest.raises(TransitionNotAllowed):
        appeal.reject(at=LATER, customer_reason="r")
    with pytest.raises(TransitionNotAllowed):
        appeal.approve_pending_confirmation(at=LATER)
    with pytest.raises(AttributeError):
        appeal.status = AppealStatus.APPROVED  # protected: only transitions move it


def test_a_decision_needs_a_note_and_a_rejection_needs_a_reason_for_the_customer():
    reviewer = officer()
    appeal = in_review(frozen_appeal(), reviewer)
    before = steps(appeal)

    with pytest.raises(NoteRequired):
        services.appeal_decide(
            appeal=appeal, actor=reviewer, outcome=AppealStatus.APPROVED, note=" ", now=LATER
        )
    with pytest.raises(RejectionReasonRequired):
        services.appeal_decide(
            appeal=appeal,
            actor=reviewer,
            outcome=AppealStatus.REJECTED,
            note="internal",
            customer_reason="  ",
            now=LATER,
        )
    with pytest.raises(NoteRequired):
        services.appeal_request_info(appeal=appeal, actor=reviewer, note="", now=LATER)
    assert steps(appeal) == before
    assert reload(appeal).status == AppealStatus.IN_REVIEW


@pytest.mark.parametrize("role", [None, Role.SUPPORT_AGENT, Role.AUDITOR])
def test_only_reviewers_may_assign_ask_or_decide(role):
    appeal = frozen_appeal()
    actor = staff(role) if role else open_account().customer
    before = steps(appeal)
    for call in (
        lambda: services.appeal_assign(appeal=appeal, actor=actor, now=LATER),
        lambda: services.appeal_request_info(appeal=appeal, actor=actor, note="?", now=LATER),
        lambda: services.appeal_decide(
            appeal=appeal, actor=actor, outcome=AppealStatus.APPROVED, note="n", now=LATER
        ),
    ):
        with pytest.raises(NotPermitted):
            call()
    assert steps(appeal) == before


def test_a_support_agent_can_write_to_the_customer_but_an_auditor_cannot():
    appeal = frozen_appeal()
    message = services.appeal_message_add(
        appeal=appeal, author=staff(Role.SUPPORT_AGENT), body="We are on it.", now=LATER
    )
    assert message.author_side == MessageAuthor.STAFF
    with pytest.raises(NotPermitted):
        services.appeal_message_add(
            appeal=appeal, author=staff(Role.AUDITOR), body="hello", now=LATER
        )


def test_a_customer_cannot_act_on_another_customers_appeal():
    appeal = frozen_appeal()
    stranger = open_account().customer
    with pytest.raises(AppealNotFound):
        services.appeal_withdraw(appeal=appeal, customer=stranger, now=LATER)
    with pytest.raises(AppealNotFound):
        services.appeal_answer(appeal=appeal, customer=stranger, text="hi", now=LATER)
    with pytest.raises(NotPermitted):  # not the owner, and no staff permission
        services.appeal_message_add(appeal=appeal, author=stranger, body="hi", now=LATER)
    assert reload(appeal).status == AppealStatus.SUBMITTED
    assert not AppealMessage.objects.exists()


def test_a_risk_manager_reviews_like_an_officer():
    appeal = frozen_appeal()
    boss = manager()
    services.appeal_assign(appeal=appeal, actor=boss, now=LATER)
    assert reload(appeal).assigned_to == boss
