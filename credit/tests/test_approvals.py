"""Four eyes on exposure: staff raises, large grants and fee-schedule activations wait for a
second person; the database refuses maker = checker and two pending requests for one target."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from conftest import shanghai
from core.permissions import NotPermitted
from core.reasons import ReasonCode
from credit.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    FeeSchedule,
    FeeScheduleTerm,
    GrantStatus,
    LimitChange,
    TemporaryLimitGrant,
)
from credit.risk.tests.factories import active_policy
from credit.services import fee_schedule_activate, limit_set, temporary_limit_grant
from credit.services.approvals import (
    approval_approve,
    approval_cancel,
    approval_reject,
    approvals_expire,
)
from credit.services.errors import (
    ApprovalAlreadyPending,
    ApprovalExpired,
    ApprovalNoteRequired,
    ApprovalNotPending,
    ApprovalStale,
    InvalidAmount,
    LimitAbovePolicyMaximum,
    OnlyMakerMayCancel,
    SecondApproverRequired,
)
from credit.tasks import approvals_expire_task
from testkit import reload
from testkit.approvals import approve_as_second
from testkit.credit import LAUNCH_RATES, launch_fee_schedule, open_account
from testkit.people import manager, officer, staff

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def raise_to(account, limit, *, actor, now=NOW):
    return limit_set(
        account=account,
        new_base_limit=D(limit),
        reason_codes=[ReasonCode.STAFF_DECISION],
        note="good payer",
        actor=actor,
        now=now,
    )


def grant(account, amount, *, actor, now=NOW):
    return temporary_limit_grant(
        account=account,
        amount=D(amount),
        starts_at=now,
        ends_at=now + timedelta(days=30),
        reason="festival",
        actor=actor,
        now=now,
    )


# --- base-limit raises ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "gated"),
    [
        ("10000.00", "15000.00", False),  # +50% exactly, under ¥20,000: applies
        ("10000.00", "15000.01", True),  # more than +50%
        ("18000.00", "20000.00", False),  # up to ¥20,000 and under +50%
        ("18000.00", "20000.01", True),  # above ¥20,000
        ("30000.00", "25000.00", False),  # a (small) cut is not this gate's business
    ],
)
def test_a_staff_raise_past_the_thresholds_waits_for_a_second_person(old, new, gated):
    account = open_account(old)
    result = raise_to(account, new, actor=officer())
    assert isinstance(result, ApprovalRequest) is gated
    assert reload(account).base_limit == (D(old) if gated else D(new))


def test_the_request_records_what_was_asked_and_changes_nothing_yet():
    account, maker = open_account("10000.00"), officer()
    request = raise_to(account, "25000.00", actor=maker)
    assert (request.kind, request.status, request.maker, request.checker) == (
        ApprovalKind.BASE_LIMIT,
        ApprovalStatus.PENDING,
        maker,
        None,
    )
    assert request.payload["old_base_limit"] == "10000.00"
    assert request.payload["new_base_limit"] == "25000.00"
    assert request.expires_at == NOW + timedelta(hours=72)
    assert not LimitChange.objects.filter(account=account, actor=maker).exists()
    # The system (a rescoring run) is not gated, even past the thresholds.
    change = limit_set(
        account=account,
        new_base_limit=D("40000.00"),
        kind="RESCORE",
        reason_codes=[ReasonCode.GOOD_HISTORY],
        run_id=1,
        now=NOW,
    )
    assert isinstance(change, LimitChange) and reload(account).base_limit == D("40000.00")


def test_a_second_officer_approves_and_the_raise_applies_once_as_the_checker():
    account, maker, checker = open_account("10000.00"), officer(), officer()
    request = raise_to(account, "25000.00", actor=maker)
    approved = approval_approve(request=request, actor=checker, now=NOW + timedelta(hours=1))
    assert (approved.status, approved.checker) == (ApprovalStatus.APPROVED, checker)
    change = LimitChange.objects.get(account=account, new_base_limit=D("25000.00"))
    assert change.actor == checker and f"approval #{request.pk}" in change.note
    assert approved.outcome == f"credit.limitchange:{change.pk}"
    assert reload(account).base_limit == D("25000.00")
    with pytest.raises(ApprovalNotPending):
        approval_approve(request=request, actor=manager(), now=NOW + timedelta(hours=2))
    assert LimitChange.objects.filter(account=account, new_base_limit=D("25000.00")).count() == 1


def test_the_maker_cannot_approve_their_own_request():
    account, maker = open_account("10000.00"), officer()
    request = raise_to(account, "25000.00", actor=maker)
    with pytest.raises(SecondApproverRequired):
        approval_approve(request=request, actor=maker, now=NOW)
    assert reload(request).status == ApprovalStatus.PENDING
    assert reload(account).base_limit == D("10000.00")


def test_someone_without_the_permission_cannot_approve():
    account = open_account("10000.00")
    request = raise_to(account, "25000.00", actor=officer())
    with pytest.raises(NotPermitted):
        approval_approve(request=request, actor=staff("Support agent"), now=NOW)
    assert reload(request).status == ApprovalStatus.PENDING


def test_the_database_refuses_a_checker_who_is_the_maker():
    account, maker = open_account("10000.00"), officer()
    request = raise_to(account, "25000.00", actor=maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            status=ApprovalStatus.APPROVED, checker=maker, decided_at=NOW
        )


def test_the_database_refuses_a_decided_request_without_a_checker():
    request = raise_to(open_account("10000.00"), "25000.00", actor=officer())
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            status=ApprovalStatus.APPROVED, decided_at=NOW
        )


def test_the_database_keeps_what_was_asked_and_a_decision_once_taken():
    maker, checker = officer(), officer()
    request = raise_to(open_account("10000.00"), "25000.00", actor=maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(
            payload={**request.payload, "new_base_limit": "999999999.00"}
        )
    approval_approve(request=request, actor=checker, now=NOW)
    for change in (
        {"status": ApprovalStatus.PENDING, "checker": None, "decided_at": None},
        {"checker": manager()},
        {"outcome": "credit.limitchange:1"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ApprovalRequest.objects.filter(pk=request.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).delete()
    assert reload(request).checker == checker


def test_the_database_allows_one_pending_request_per_target():
    account, maker = open_account("10000.00"), officer()
    request = raise_to(account, "25000.00", actor=maker)
    with pytest.raises(ApprovalAlreadyPending):
        raise_to(account, "30000.00", actor=officer())
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            kind=ApprovalKind.BASE_LIMIT,
            target_content_type=ContentType.objects.get_for_model(account),
            target_object_id=account.pk,
            summary="twin",
            maker=maker,
            created_at=NOW,
            expires_at=NOW + timedelta(hours=1),
        )
    assert ApprovalRequest.objects.filter(target_object_id=account.pk).get() == request


def test_an_approval_re_validates_a_limit_that_changed_meanwhile():
    account, maker = open_account("10000.00"), officer()
    request = raise_to(account, "25000.00", actor=maker)
    raise_to(account, "12000.00", actor=officer())  # a small raise applies at once
    with pytest.raises(ApprovalStale):
        approval_approve(request=request, actor=officer(), now=NOW)
    assert reload(request).status == ApprovalStatus.PENDING
    assert reload(account).base_limit == D("12000.00")


def test_requests_expire_and_an_expired_one_cannot_be_approved():
    account = open_account("10000.00")
    request = raise_to(account, "25000.00", actor=officer())
    later = NOW + timedelta(hours=72)
    with pytest.raises(ApprovalExpired):
        approval_approve(request=request, actor=officer(), now=later)
    assert approvals_expire(now=later - timedelta(seconds=1)) == 0
    assert approvals_expire(now=later) == 1
    request = reload(request)
    assert (request.status, request.decided_at, request.checker) == (
        ApprovalStatus.EXPIRED,
        later,
        None,
    )
    assert approvals_expire_task() == 0  # idempotent
    # A new request may be made for the same account.
    assert isinstance(raise_to(account, "25000.00", actor=officer(), now=later), ApprovalRequest)


def test_a_rejection_needs_a_reason_and_changes_nothing():
    account = open_account("10000.00")
    request = raise_to(account, "25000.00", actor=officer())
    checker = officer()
    with pytest.raises(ApprovalNoteRequired):
        approval_reject(request=request, actor=checker, now=NOW, note=" ")
    rejected = approval_reject(request=request, actor=checker, now=NOW, note="no income proof")
    assert (rejected.status, rejected.checker, rejected.note) == (
        ApprovalStatus.REJECTED,
        checker,
        "no income proof",
    )
    assert reload(account).base_limit == D("10000.00")


def test_only_the_maker_cancels():
    maker = officer()
    request = raise_to(open_account("10000.00"), "25000.00", actor=maker)
    with pytest.raises(OnlyMakerMayCancel):
        approval_cancel(request=request, actor=officer(), now=NOW)
    assert approval_cancel(request=request, actor=maker, now=NOW).status == ApprovalStatus.CANCELLED


# --- above the active policy's maximum -----------------------------------------------------------
def test_an_officer_is_refused_a_limit_above_the_policy_maximum():
    active_policy(max_limit=D("50000.00"))
    account = open_account("30000.00")
    with pytest.raises(LimitAbovePolicyMaximum) as refused:
        raise_to(account, "999999999.00", actor=officer())
    assert "¥50,000.00" in refused.value.message
    assert not ApprovalRequest.objects.exists()


def test_above_the_policy_maximum_a_manager_asks_and_only_a_second_manager_approves():
    active_policy(max_limit=D("50000.00"))
    account = open_account("45000.00")
    request = raise_to(account, "60000.00", actor=manager())  # +33%, but above the maximum
    assert request.payload["over_policy_maximum"] is True
    with pytest.raises(LimitAbovePolicyMaximum):
        approval_approve(request=request, actor=officer(), now=NOW)
    assert reload(request).status == ApprovalStatus.PENDING
    approval_approve(request=request, actor=manager(), now=NOW)
    assert reload(account).base_limit == D("60000.00")


# --- temporary grants -------------------------------------------------------------------------
def test_a_grant_above_the_threshold_waits_and_applies_on_approval():
    account = open_account("10000.00")
    assert isinstance(grant(account, "10000.00", actor=manager()), TemporaryLimitGrant)
    request = grant(account, "10000.01", actor=manager())
    assert request.kind == ApprovalKind.TEMPORARY_GRANT
    assert TemporaryLimitGrant.objects.filter(account=account).count() == 1
    checker = manager()
    made = approve_as_second(request, now=NOW, checker=checker)
    assert (made.amount, made.status, made.granted_by) == (
        D("10000.01"),
        GrantStatus.ACTIVE,
        checker,
    )
    assert reload(account).effective_limit == D("30000.01")


def test_a_grant_request_that_ended_before_approval_is_refused_on_approval():
    request = temporary_limit_grant(
        account=open_account(),
        amount=D("20000.00"),
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=1),
        reason="flash sale",
        actor=manager(),
        now=NOW,
    )
    with pytest.raises(InvalidAmount):
        approval_approve(request=request, actor=manager(), now=NOW + timedelta(hours=2))
    assert reload(request).status == ApprovalStatus.PENDING
    assert not TemporaryLimitGrant.objects.exists()


# --- fee-schedule activation ------------------------------------------------------------------
def test_a_fee_schedule_activation_waits_for_a_second_manager():
    launch_fee_schedule()
    schedule = FeeSchedule.objects.create(version=9, name="spring", created_at=NOW)
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=t, monthly_fee_rate=D(r))
        for t, r in LAUNCH_RATES.items()
    )
    maker = manager()
    request = fee_schedule_activate(schedule=schedule, actor=maker, now=NOW)
    assert request.kind == ApprovalKind.FEE_SCHEDULE
    assert not reload(schedule).is_active
    with pytest.raises(SecondApproverRequired):
        approval_approve(request=request, actor=maker, now=NOW)
    checker = manager()
    approve_as_second(request, now=NOW, checker=checker)
    schedule = reload(schedule)
    assert (schedule.is_active, schedule.activated_by) == (True, checker)
    assert FeeSchedule.objects.filter(is_active=True).get() == schedule
