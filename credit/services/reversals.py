"""No-fault reversal: a decision found wrong is undone as if it had never been taken.

A freeze, a limit cut, an early repayment demand or a probation is found wrong when a risk
flag is cleared as a false alarm, an appeal against it is approved, the rescoring run that
made it is rolled back, or staff reverse it as our error. `decision_reverse` then, in one
transaction:

- puts the account where it would be without the decision: the cut base limit back, the
  freeze lifted and the probation ended by the REVERSE transition (→ ACTIVE, or NEGATIVE
  when it owes more than its limit even so; never RESTORED, no probation cap, no
  pre-incident limit). A freeze with another reason still standing keeps that reason (and
  the account FROZEN): only the wrong one goes;
- waives every penalty posted since the decision (we cannot tell which of them it caused,
  so the customer has the benefit of the doubt): what is unpaid with a PENALTY_WAIVER
  journal entry, what the customer already paid since is returned to their credit balance
  (PENALTY_RETURN), which pays what they owe at once; installment fees are agreed at
  purchase and there is no interest yet, so a decision causes no other charge;
- records a `DecisionReversal` linked to the wrong decision's row (which stays) and to the
  LimitChange it wrote; the risk features leave the reversed decision out;
- tells the customer (DECISION_REVERSED, every channel) what went wrong and what was put
  right — instead of the LIMIT_RAISED / ACCOUNT_UNFROZEN notices of an ordinary change.

Who may: staff's "our error" needs `credit.reverse_decision`; the other sources run inside
the service that found the decision wrong, which checked its own permission (flag review,
run rollback; an appeal's approval checked the reviewer), and a person acting is checked
for it again here.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models, transaction
from django.db.models import Q, Sum
from django_fsm_log.models import StateLog

from accounts.models import User
from core.events import EventType, Notice, publish_many
from core.permissions import permission_require
from core.reasons import ReasonCode
from credit.formulas import INSTALLMENT_OPEN
from credit.models import (
    AccountStatus,
    AllocationComponent,
    CreditAccount,
    DecisionReversal,
    Installment,
    JournalEntryKind,
    JournalLine,
    LimitChange,
    LimitChangeKind,
    RepaymentAllocation,
    ReversalSource,
    ReversedDecision,
)
from credit.models import LedgerAccount as L
from credit.money import ZERO
from credit.services.errors import NothingToReverse, ReasonRequired
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock
from credit.services.limits import limit_change_record
from credit.services.permissions import REVERSE_DECISION
from credit.services.repayments import credit_balance_apply
from credit.transitions import REVERSE, audit_description

# The permission a person needs for each source (None: the appeal's approval was checked).
SOURCE_PERMISSIONS = {
    ReversalSource.STAFF_ERROR: REVERSE_DECISION,
    ReversalSource.FLAG_CLEARED: "risk.review_riskflag",
    ReversalSource.RUN_ROLLBACK: "risk.rollback_rescoringrun",
    ReversalSource.APPEAL: None,
}


# The reason codes of the reversal: how it was found wrong, then "our mistake, put right".
SOURCE_REASONS = {
    ReversalSource.STAFF_ERROR: [],
    ReversalSource.FLAG_CLEARED: [],
    ReversalSource.RUN_ROLLBACK: [ReasonCode.ROLLBACK],
    ReversalSource.APPEAL: [ReasonCode.APPEAL_APPROVED],
}


@dataclass(frozen=True)
class WrongDecision:
    """What was wrong, when it was taken, and its record (which stays, linked)."""

    decision: str
    at: datetime
    record: models.Model | None = None
    # FREEZE: lift only this reason ("": the whole freeze).
    freeze_reason: str = ""
    # LIMIT_CUT: the base limit before the cut.
    limit_before: Decimal | None = None
    # The journal reference of the waiver the owning service already posted (a withdrawn
    # demand's "acceleration:<id>"): counted in what the customer is told was waived.
    waiver_reference: str = ""


def wrong_freeze(account: CreditAccount, *, reason: str = "") -> WrongDecision:
    """The account's freeze in force (its last `freeze` status log); `reason`: that one only."""
    log = StateLog.objects.for_(account).filter(transition="freeze").order_by("-pk").first()
    at = log.timestamp if log is not None else account.status_changed_at or account.opened_at
    return WrongDecision(ReversedDecision.FREEZE, at=at, record=log, freeze_reason=reason)


def wrong_cut(change: LimitChange) -> WrongDecision:
    return WrongDecision(
        ReversedDecision.LIMIT_CUT,
        at=change.created_at,
        record=change,
        limit_before=change.old_base_limit,
    )


def wrong_acceleration(acceleration) -> WrongDecision:
    """An early repayment demand its service has already withdrawn (and waived for)."""
    return WrongDecision(
        ReversedDecision.ACCELERATION,
        at=acceleration.demanded_at,
        record=acceleration,
        waiver_reference=f"acceleration:{acceleration.pk}",
    )


def wrong_probation(account: CreditAccount) -> WrongDecision:
    """The account's probation: from the status log that put it in RESTORED."""
    log = (
        StateLog.objects.for_(account).filter(state=AccountStatus.RESTORED).order_by("-pk").first()
    )
    at = account.restored_at or (log.timestamp if log is not None else account.opened_at)
    return WrongDecision(ReversedDecision.PROBATION, at=at, record=log)


def _refuse_unless_in_force(account: CreditAccount, wrong: WrongDecision) -> None:
    decision, status = wrong.decision, account.status
    if decision == ReversedDecision.FREEZE:
        in_force = status == AccountStatus.FROZEN and (
            not wrong.freeze_reason or wrong.freeze_reason in account.freeze_reasons
        )
    elif decision == ReversedDecision.LIMIT_CUT:
        in_force = wrong.limit_before is not None and (
            account.base_limit < wrong.limit_before
            or status in (AccountStatus.NEGATIVE, AccountStatus.RESTORED)
        )
    elif decision == ReversedDecision.PROBATION:
        in_force = status == AccountStatus.RESTORED or account.probation_limit_cap is not None
    else:
        in_force = True  # the owning service withdrew it
    if not in_force or status == AccountStatus.CLOSED:
        raise NothingToReverse()


def _status_put_right(
    account: CreditAccount, wrong: WrongDecision, *, now, actor, codes, description
) -> None:
    """Lift the wrong freeze or probation (the REVERSE transition), or just its reason."""
    decision = wrong.decision
    if decision == ReversedDecision.FREEZE:
        others = [
            r for r in account.freeze_reasons if wrong.freeze_reason and r != wrong.freeze_reason
        ]
        if others:
            account.freeze_reasons = others
            return
    elif decision == ReversedDecision.ACCELERATION or account.status == AccountStatus.FROZEN:
        # A cut or a probation reversed while another cause holds the account frozen: the
        # limit it comes back to is the one before the cut.
        if account.pre_incident_limit is not None and wrong.limit_before is not None:
            account.pre_incident_limit = max(account.pre_incident_limit, wrong.limit_before)
        return
    if account.status not in REVERSE.source:
        return
    account.probation_limit_cap = None  # the target reads available without the cap
    if account.status == AccountStatus.NEGATIVE and account.available < 0:
        # Still owes more than its whole limit: NEGATIVE stays, with no probation after it.
        account.pre_incident_limit = None
        account.restored_at = None
        return
    account.reverse(at=now, by=actor, description=description, reason_codes=codes)


def _already_waived(account: CreditAccount, reference: str) -> Decimal:
    if not reference:
        return ZERO
    return (
        JournalLine.objects.filter(
            account=account,
            ledger_account=L.RECEIVABLE_PENALTY,
            entry__kind=JournalEntryKind.PENALTY_WAIVER,
            entry__reference=reference,
        ).aggregate(total=Sum("credit"))["total"]
        or ZERO
    )


def _penalties_waive(
    account: CreditAccount, *, since: datetime, reference: str, now
) -> tuple[Decimal, Decimal]:
    """Waive the unpaid penalties posted since `since` (net of waivers since), newest first;
    returns (waived, the rest of them: already paid)."""

    posted = JournalLine.objects.filter(
        account=account, ledger_account=L.RECEIVABLE_PENALTY, entry__created_at__gte=since
    ).aggregate(
        penalties=Sum("debit", filter=Q(entry__kind=JournalEntryKind.PENALTY)),
        waivers=Sum("credit", filter=Q(entry__kind=JournalEntryKind.PENALTY_WAIVER)),
    )
    to_waive = (posted["penalties"] or ZERO) - (posted["waivers"] or ZERO)
    if to_waive <= 0:
        return ZERO, ZERO
    waived = ZERO
    installments = Installment.objects.select_for_update().filter(INSTALLMENT_OPEN, account=account)
    changed = []
    for inst in installments.order_by("-due_date", "-pk"):
        share = min(inst.penalty_due, to_waive - waived)
        if share <= 0:
            continue
        inst.penalty_waived += share
        waived += share
        changed.append(inst)
    Installment.objects.bulk_update(changed, ["penalty_waived"])
    journal_post(
        kind=JournalEntryKind.PENALTY_WAIVER,
        account=account,
        reference=reference,
        now=now,
        memo="Penalties of a wrong decision waived",
        lines=[debit(L.PENALTY_INCOME, waived), credit(L.RECEIVABLE_PENALTY, waived)],
    )
    return waived, to_waive - waived


def _penalties_return(
    account: CreditAccount, *, since: datetime, at_most: Decimal, reference: str, now
) -> Decimal:
    """Give back, to the credit balance, penalties of the period the customer already paid."""
    paid = (
        RepaymentAllocation.objects.filter(
            repayment__account=account,
            repayment__received_at__gte=since,
            component=AllocationComponent.PENALTY,
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    returned = min(paid, at_most)
    if returned <= 0:
        return ZERO
    account.credit_balance += returned
    account.save(update_fields=["credit_balance"])
    journal_post(
        kind=JournalEntryKind.PENALTY_RETURN,
        account=account,
        reference=reference,
        now=now,
        memo="Penalties of a wrong decision returned",
        lines=[debit(L.PENALTY_INCOME, returned), credit(L.CUSTOMER_CREDIT, returned)],
    )
    # Money back while something is owed pays it at once (as a refund's does).
    credit_balance_apply(account=account, now=now, source=reference)
    return returned


@transaction.atomic
def decision_reverse(
    *,
    account: CreditAccount,
    wrong: WrongDecision,
    source: str,
    reason: str,
    now: datetime,
    actor: User | None = None,
    source_ref: str = "",
    limit_kind: str = LimitChangeKind.REVERSAL,
    run_id: int | None = None,
    notices: list[Notice] | None = None,
) -> DecisionReversal:
    """Reverse `wrong` on `account` as our error (see the module's docstring). With `notices`
    (a list), the customer's notice is appended to it for the caller to publish in a batch
    (`core.events.publish_many`, in the same transaction) instead of published here."""
    permission = SOURCE_PERMISSIONS[source]
    if source == ReversalSource.STAFF_ERROR and actor is None:
        raise ReasonRequired()  # "our error" is a person's finding
    if actor is not None and permission is not None:
        permission_require(actor, permission)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    account = account_lock(account)
    _refuse_unless_in_force(account, wrong)
    status_before = account.status
    old_base, old_effective = account.base_limit, account.effective_limit
    codes = [*SOURCE_REASONS[source], ReasonCode.OUR_ERROR]
    if wrong.decision == ReversedDecision.LIMIT_CUT and account.base_limit < wrong.limit_before:
        account.base_limit = wrong.limit_before
    _status_put_right(
        account,
        wrong,
        now=now,
        actor=actor,
        codes=codes,
        description=audit_description(codes, reason, run_id),
    )
    account.save()
    change = None
    if (account.base_limit, account.effective_limit) != (old_base, old_effective):
        change = limit_change_record(
            account=account,
            kind=limit_kind,
            old_base=old_base,
            old_effective=old_effective,
            reason_codes=codes,
            now=now,
            actor=actor,
            run_id=run_id,
            note=reason,
            notify=False,
        )
    record = DecisionReversal.objects.create(
        account=account,
        decision=wrong.decision,
        source=source,
        freeze_reason=wrong.freeze_reason,
        reason=reason,
        actor=actor,
        source_ref=source_ref,
        wrong=wrong.record,
        wrong_limit_change=wrong.record if isinstance(wrong.record, LimitChange) else None,
        wrong_at=wrong.at,
        limit_change=change,
        status_before=status_before,
        status_after=account.status,
        limit_before=old_effective,
        limit_after=account.effective_limit,
        created_at=now,
    )
    reference = f"reversal:{record.pk}"
    waived, rest = _penalties_waive(account, since=wrong.at, reference=reference, now=now)
    returned = _penalties_return(
        account, since=wrong.at, at_most=rest, reference=reference, now=now
    )
    record.penalty_waived = waived + _already_waived(account, wrong.waiver_reference)
    record.penalty_returned = returned
    if record.penalty_waived or record.penalty_returned:  # created with zero
        record.save(update_fields=["penalty_waived", "penalty_returned"])
    notice = Notice(
        EventType.DECISION_REVERSED,
        account.customer,
        {
            "reversal_id": record.pk,
            "decision": wrong.decision,
            "source": source,
            "status": account.status,
            "still_frozen": account.status == AccountStatus.FROZEN,
            "old_limit": str(old_effective),
            "effective_limit": str(account.effective_limit),
            "available": str(account.available),
            "penalty_waived": str(record.penalty_waived),
            "penalty_returned": str(record.penalty_returned),
            "reason_codes": codes,
        },
        f"reversal:{record.pk}",
    )
    if notices is None:
        publish_many([notice], now=now)
    else:
        notices.append(notice)  # the caller publishes them in one batch, in its transaction
    return record
