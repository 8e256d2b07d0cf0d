"""What staff do: assign, ask for information, write, decide, and the second approval."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from appeals.errors import (
    AppealAlreadyDecided,
    AppealTransitionRefused,
    NoteRequired,
    RejectionReasonRequired,
    SameApproverRefused,
)
from appeals.kinds import AppealKind, EffectPlan, kind_of
from appeals.models import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealMessage,
    AppealStatus,
    MessageAuthor,
)
from appeals.services.common import (
    appeal_lock,
    log_step,
    message_write,
    notify_customer,
)
from appeals.services.customer import _clean_text
from core.events import EventType
from core.permissions import permission_require
from core.reasons import ReasonCode
from credit.services import account_lock, status_log_stamp

REVIEW = "appeals.review_appeal"
CONFIRM = "appeals.confirm_appeal"
MESSAGE = "appeals.message_appeal"


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise NoteRequired()
    return note


def _refuse_unless_open(appeal: Appeal) -> None:
    if appeal.status in DECIDED_STATUSES:
        raise AppealAlreadyDecided()
    if appeal.status not in OPEN_STATUSES:
        raise AppealTransitionRefused(_("This appeal was withdrawn."))


def _start_review_if_new(appeal: Appeal, *, actor: User, now: datetime) -> None:
    if appeal.status == AppealStatus.SUBMITTED:
        appeal.start_review(reviewer=actor, by=actor, description="")
        appeal.save()
        status_log_stamp(appeal, now)
    elif appeal.assigned_to_id is None:
        appeal.assigned_to = actor
        appeal.save(update_fields=["assigned_to"])


@transaction.atomic
def appeal_assign(*, appeal: Appeal, actor: User, now: datetime, reviewer: User | None = None):
    """Assign a reviewer ("assign to me" when `reviewer` is the actor); a new appeal starts review."""
    permission_require(actor, REVIEW)
    reviewer = reviewer or actor
    permission_require(reviewer, REVIEW)
    appeal = appeal_lock(appeal)
    _refuse_unless_open(appeal)
    if appeal.status == AppealStatus.SUBMITTED:
        appeal.start_review(reviewer=reviewer, by=actor, description="")
        appeal.save()
        status_log_stamp(appeal, now)
    elif appeal.assigned_to_id != reviewer.pk:
        appeal.assigned_to = reviewer
        appeal.save(update_fields=["assigned_to"])
        log_step(
            appeal,
            transition="assign",
            by=actor,
            now=now,
            source=appeal.status,
            description=str(reviewer),
        )
    return appeal


@transaction.atomic
def appeal_request_info(*, appeal: Appeal, actor: User, note: str, now: datetime) -> Appeal:
    """Ask the customer for information: → NEEDS_INFO, the SLA clock pauses.

    The note is the question the customer reads (it is also the thread's next message).
    """
    permission_require(actor, REVIEW)
    note = _clean_text(_note(note))
    appeal = appeal_lock(appeal)
    _refuse_unless_open(appeal)
    _start_review_if_new(appeal, actor=actor, now=now)
    if appeal.status != AppealStatus.IN_REVIEW:
        raise AppealTransitionRefused(
            _("Information can only be requested while the appeal is in review.")
        )
    appeal.request_info(at=now, by=actor, description=note)
    appeal.save()
    status_log_stamp(appeal, now)
    message_write(appeal, author=actor, side=MessageAuthor.STAFF, body=note, now=now)
    notify_customer(
        appeal,
        event=EventType.APPEAL_NEEDS_INFO,
        now=now,
        key=f"needs-info:{now.isoformat()}",
        question=note,
    )
    return appeal


@transaction.atomic
def appeal_message_add(*, appeal: Appeal, author: User, body: str, now: datetime) -> AppealMessage:
    """A message in the thread: the customer on their own open appeal, or permitted staff."""
    body = _clean_text(body)
    appeal = appeal_lock(appeal)
    if appeal.customer_id == author.pk:
        side = MessageAuthor.CUSTOMER
        if appeal.status not in OPEN_STATUSES:
            raise AppealTransitionRefused(_("This appeal is closed."))
    else:
        permission_require(author, MESSAGE, REVIEW)
        side = MessageAuthor.STAFF
    return message_write(appeal, author=author, side=side, body=body, now=now)


def _apply(
    appeal: Appeal, kind: AppealKind, *, actor: User, note: str, now: datetime, plan: EffectPlan
) -> None:
    appeal.effect_reference = plan.apply()
    appeal.approve(at=now, by=actor, description=note)
    appeal.save()
    status_log_stamp(appeal, now)
    # The notice says what the approval did, read from the account after the effect, so
    # the record, the account and the notice cannot tell three stories.
    account = account_lock(appeal.account_id)
    notify_customer(
        appeal,
        event=EventType.APPEAL_DECIDED,
        now=now,
        key="decided",
        outcome=plan.outcome,
        reason_codes=[ReasonCode.APPEAL_APPROVED],
        customer_reason=appeal.customer_reason,
        effect=kind.effect,
        restored_amount=str(plan.restored_amount),
        account_status=account.status,
        base_limit=str(account.base_limit),
        effective_limit=str(account.effective_limit),
        **plan.notice,
    )


def _plan(appeal: Appeal, kind: AppealKind, *, actor: User, note: str, now: datetime) -> EffectPlan:
    """Lock the account, then the target's row through the appellant, and plan the effect."""
    account = account_lock(appeal.account_id)
    # Not locked here: the owning service locks its rows in its own order (the appeal's lock
    # already makes the decision happen once).
    target = kind.model.objects.get(pk=appeal.target_object_id)
    if kind.account_id_of(target) != account.pk:  # stored generically, so check again
        raise AppealTransitionRefused()
    return kind.effect_plan(
        appeal=appeal,
        target=target if kind.account_field else account,
        account=account,
        actor=actor,
        now=now,
        note=f"appeal #{appeal.pk} ({actor}): {note}",
    )


@transaction.atomic
def appeal_decide(
    *,
    appeal: Appeal,
    actor: User,
    outcome: str,
    note: str,
    now: datetime,
    customer_reason: str = "",
    **decision: Any,
) -> Appeal:
    """Approve or reject. An approval takes effect here, once, in this transaction.

    `decision`: the reviewer's inputs the appeal's kind takes with an approval (its
    `decision_fields`, e.g. restoration's `restore_to`, installment's `extension_days`).

    The appeal row is locked and its state checked first, so a decision submitted twice
    (a double click, two reviewers) takes effect once; the second is refused. An approval
    giving back more usable limit than the configured threshold waits, without effect, for
    a second, different risk manager (`appeal_confirm`).
    """
    permission_require(actor, REVIEW)
    appeal = appeal_lock(appeal)
    _refuse_unless_open(appeal)
    if appeal.status == AppealStatus.AWAITING_CONFIRMATION:
        raise AppealTransitionRefused(_("This approval is waiting for a second risk manager."))
    note = _note(note)
    customer_reason = (customer_reason or "").strip()
    if outcome == AppealStatus.REJECTED and not customer_reason:
        raise RejectionReasonRequired()
    if outcome not in (AppealStatus.APPROVED, AppealStatus.REJECTED):
        raise AppealTransitionRefused()
    if appeal.status == AppealStatus.NEEDS_INFO:
        raise AppealTransitionRefused(
            _("The customer has not answered the request for information yet.")
        )
    _start_review_if_new(appeal, actor=actor, now=now)

    if outcome == AppealStatus.REJECTED:
        appeal.reject(at=now, customer_reason=customer_reason, by=actor, description=note)
        appeal.decision_note = note
        appeal.save()
        status_log_stamp(appeal, now)
        notify_customer(
            appeal,
            event=EventType.APPEAL_DECIDED,
            now=now,
            key="decided",
            outcome=AppealStatus.REJECTED,
            reason_codes=[],
            customer_reason=customer_reason,
        )
        return appeal

    kind = kind_of(appeal)
    kind.decision_record(appeal, **decision)
    appeal.decision_note = note
    appeal.customer_reason = customer_reason
    plan = _plan(appeal, kind, actor=actor, note=note, now=now)
    appeal.restored_amount = plan.restored_amount
    if plan.restored_amount > settings.APPEALS_SECOND_APPROVAL_ABOVE:
        appeal.approve_pending_confirmation(at=now, by=actor, description=note)
        appeal.save()
        status_log_stamp(appeal, now)
        return appeal
    _apply(appeal, kind, actor=actor, note=note, now=now, plan=plan)
    return appeal


@transaction.atomic
def appeal_confirm(*, appeal: Appeal, actor: User, note: str, now: datetime) -> Appeal:
    """The second approval (maker-checker): a different risk manager; the effect applies now."""
    permission_require(actor, CONFIRM)
    appeal = appeal_lock(appeal)
    _refuse_unless_open(appeal)
    if appeal.status != AppealStatus.AWAITING_CONFIRMATION:
        raise AppealTransitionRefused(_("This appeal is not waiting for a second approval."))
    if appeal.approved_by_id == actor.pk:
        raise SameApproverRefused()
    note = _note(note)
    # Planned again now: the account may have moved since the first approval.
    kind = kind_of(appeal)
    plan = _plan(appeal, kind, actor=actor, note=note, now=now)
    appeal.restored_amount = plan.restored_amount
    _apply(appeal, kind, actor=actor, note=note, now=now, plan=plan)
    return appeal


@transaction.atomic
def appeal_confirmation_decline(*, appeal: Appeal, actor: User, note: str, now: datetime):
    """The checker sends a large approval back to review (nothing took effect)."""
    permission_require(actor, CONFIRM)
    appeal = appeal_lock(appeal)
    _refuse_unless_open(appeal)
    if appeal.status != AppealStatus.AWAITING_CONFIRMATION:
        raise AppealTransitionRefused(_("This appeal is not waiting for a second approval."))
    appeal.decline_confirmation(by=actor, description=_note(note))
    appeal.save()
    status_log_stamp(appeal, now)
    return appeal
