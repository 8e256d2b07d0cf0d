"""Cooling-off: confirming or cancelling an announced limit decrease.

A run announces a deep automated cut as a `PendingLimitDecrease` (see credit.risk.bulk); the
customer hears of it with the reasons, the date and an appeal link. From its effective time
on, a later run confirms it if the score still justifies it, else cancels it; risk staff
can confirm it (after its effective time) or cancel it (any time) in the admin; the appeals
app cancels it when an appeal is approved. Confirming goes through `credit.services.limit_set`,
so a confirmed cut that drives available credit below zero sends the account NEGATIVE.

Holds: the customer is told that while an appeal against the decrease is considered, the
change waits. The appeals app registers a hold (`confirmation_hold_register`) that names the
decreases with an open appeal; nobody — neither a run nor risk staff — confirms those.

Stable signatures (other apps call them):

    pending_decrease_confirm(*, pending, actor, now, note="", run=None) -> PendingLimitDecrease
    pending_decrease_cancel(*, pending, actor, now, note, run=None) -> PendingLimitDecrease
    confirmation_hold_register(hold)  # hold(pending_ids) -> the ids it holds back
"""

from collections.abc import Callable, Collection
from datetime import datetime

from django.db import transaction

from accounts.models import User
from core.events import publish_many
from core.permissions import permission_require
from credit.risk.bulk import pending_cancelled_notice
from credit.risk.errors import (
    CoolingOffNotOver,
    NoteRequired,
    PendingDecreaseStale,
    PendingDecreaseUnderAppeal,
    PendingNotPending,
)
from credit.risk.models import PendingLimitDecrease, PendingStatus, RescoringRun
from credit.services import account_lock, limit_set

ConfirmationHold = Callable[[Collection[int]], set[int]]
_confirmation_holds: list[ConfirmationHold] = []


def confirmation_hold_register(hold: ConfirmationHold) -> None:
    """Another app holds decreases back from confirmation (registered once, at start-up)."""
    if hold not in _confirmation_holds:
        _confirmation_holds.append(hold)


def pending_decreases_held(pending_ids: Collection[int]) -> set[int]:
    held: set[int] = set()
    for hold in _confirmation_holds:
        held |= hold(pending_ids)
    return held


DECIDE_PERMISSION = "risk.decide_pendinglimitdecrease"


def _decision_check(actor: User | None, note: str) -> None:
    """A person deciding needs the permission and a note; a run (`actor=None`) needs neither."""
    if actor is None:
        return
    permission_require(actor, DECIDE_PERMISSION)
    if not (note or "").strip():
        raise NoteRequired()


def _lock(pending: PendingLimitDecrease) -> PendingLimitDecrease:
    return PendingLimitDecrease.objects.select_for_update().get(pk=pending.pk)


@transaction.atomic
def pending_decrease_confirm(
    *,
    pending: PendingLimitDecrease,
    actor: User | None,
    now: datetime,
    note: str = "",
    run: RescoringRun | None = None,
) -> PendingLimitDecrease:
    """Apply the announced cut (a LimitChange with the announced reasons)."""
    _decision_check(actor, note)
    pending = _lock(pending)
    if pending.status != PendingStatus.PENDING:
        raise PendingNotPending()
    if now < pending.effective_at:
        raise CoolingOffNotOver()
    if pending_decreases_held([pending.pk]):
        raise PendingDecreaseUnderAppeal()
    account = account_lock(pending.account_id)
    if account.base_limit != pending.old_base_limit:
        raise PendingDecreaseStale()
    change = limit_set(
        account=account,
        new_base_limit=pending.new_base_limit,
        kind=pending.kind,
        reason_codes=list(pending.reason_codes),
        now=now,
        actor=actor,
        run_id=run.pk if run is not None else None,
        note=note or f"pending decrease {pending.pk} confirmed",
    )
    pending.status = PendingStatus.CONFIRMED
    pending.decided_at, pending.decided_by, pending.decided_by_run = now, actor, run
    pending.decision_note = note
    pending.limit_change = change
    pending.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decided_by_run",
            "decision_note",
            "limit_change",
        ]
    )
    return pending


@transaction.atomic
def pending_decrease_cancel(
    *,
    pending: PendingLimitDecrease,
    actor: User | None,
    now: datetime,
    note: str,
    run: RescoringRun | None = None,
) -> PendingLimitDecrease:
    """Withdraw the announced cut; the limit stays. Cancelling a cancelled one changes nothing."""
    _decision_check(actor, note)
    pending = _lock(pending)
    if pending.status == PendingStatus.CANCELLED:
        return pending
    if pending.status != PendingStatus.PENDING:
        raise PendingNotPending()
    pending.status = PendingStatus.CANCELLED
    pending.decided_at, pending.decided_by, pending.decided_by_run = now, actor, run
    pending.decision_note = note or ""
    pending.save(
        update_fields=["status", "decided_at", "decided_by", "decided_by_run", "decision_note"]
    )
    notice = pending_cancelled_notice(
        pending_id=pending.pk,
        user=pending.account.customer,
        old_effective=pending.old_effective_limit,
        new_effective=pending.new_effective_limit,
        effective_at=pending.effective_at,
    )
    publish_many([notice], now=now)
    return pending


def pending_decrease_settle_in_run(*, pending_id: int, run: RescoringRun, now: datetime) -> str:
    """A run's confirmation: confirm, or cancel when the limit changed since it was announced;
    "held" while an appeal against it is open (a later run looks again)."""
    pending = PendingLimitDecrease.objects.get(pk=pending_id)
    try:
        with transaction.atomic():
            pending_decrease_confirm(pending=pending, actor=None, now=now, run=run)
        return "confirmed"
    except PendingDecreaseStale:
        pending_decrease_cancel(
            pending=pending,
            actor=None,
            now=now,
            note=f"run {run.pk}: the limit changed after the announcement",
            run=run,
        )
        return "cancelled"
    except PendingDecreaseUnderAppeal:
        return "held"
    except PendingNotPending:
        return "skipped"
