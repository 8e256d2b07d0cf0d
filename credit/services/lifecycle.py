"""Account lifecycle: open, freeze, unfreeze, close, and keeping status and numbers agreeing."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django_fsm import can_proceed
from django_fsm_log.models import StateLog

from accounts.models import User
from core.events import publish
from core.permissions import permission_require
from core.reasons import ReasonCode
from credit.formulas import INSTALLMENT_OPEN
from credit.models import AccountStatus, CreditAccount, FreezeReason, LimitChange, LimitChangeKind
from credit.services.errors import AccountHasBalance, ReasonRequired, TransitionRefused
from credit.services.notices import status_notice_context
from credit.services.permissions import FREEZE_ACCOUNT
from credit.transitions import (
    CLOSE,
    FREEZE,
    FREEZE_REASON_CODES,
    GO_NEGATIVE,
    RECOVER,
    UNFREEZE,
    audit_description,
    freeze_reasons_with,
)


def account_lock(account: CreditAccount | int) -> CreditAccount:
    """Re-read the account with a row lock; every write to its numbers goes through this."""
    pk = account.pk if isinstance(account, CreditAccount) else account
    # The customer comes along (most writes notify them); only the account row is locked.
    return (
        CreditAccount.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
    )


def status_log_stamp(obj, now: datetime) -> None:
    """Date the StateLog row the transition of `obj` just wrote at the business instant `now`.

    django-fsm-log stamps the wall clock; the audit's "when" is the injected `now`. Appeals
    use it; credit accounts write their StateLog rows dated already (credit.transitions).
    """
    last = StateLog.objects.for_(obj).order_by("-pk").values("pk")[:1]
    StateLog.objects.filter(pk__in=last).update(timestamp=now)


def _status_event(
    account: CreditAccount, event: str, reason_codes: list[str], now: datetime
) -> None:
    publish(
        event=event,
        user=account.customer,
        context=status_notice_context(
            status=account.status,
            reason_codes=reason_codes,
            available=account.available,
            effective_limit=account.effective_limit,
        ),
        dedupe_key=f"status:{account.pk}:{event}:{now.isoformat()}",
        now=now,
    )


@transaction.atomic
def account_open(
    *,
    customer: User,
    base_limit: Decimal,
    due_day: int = 10,
    now: datetime,
    actor: User | None = None,
) -> CreditAccount:
    account = CreditAccount.objects.create(
        customer=customer, base_limit=base_limit, due_day=due_day, opened_at=now
    )
    LimitChange.objects.create(
        account=account,
        kind=LimitChangeKind.ACCOUNT_OPEN,
        old_base_limit=Decimal("0.00"),
        new_base_limit=base_limit,
        old_effective_limit=Decimal("0.00"),
        new_effective_limit=account.effective_limit,
        reason_codes=[ReasonCode.ACCOUNT_OPENED],
        actor=actor,
        created_at=now,
    )
    return account


def account_status_settle(
    *,
    account: CreditAccount,
    now: datetime,
    by: User | None = None,
    reason_codes: list[str],
    note: str = "",
    run_id: int | None = None,
    limit_before: Decimal | None = None,
) -> str | None:
    """After the numbers changed, move the status so it agrees with them (invariant 2).

    Call with the account locked and its new numbers set, before saving. Returns the
    transition taken ("go_negative" / "recover") or None. A caller that just lowered the
    base limit passes the limit it had (`limit_before`): that is the pre-incident limit a
    restoration gives back, not the cut one.
    """
    description = audit_description(reason_codes, note, run_id)
    codes = list(reason_codes)
    if account.status in GO_NEGATIVE.source and account.available < 0:
        if account.pre_incident_limit is None and limit_before is not None:
            account.pre_incident_limit = limit_before
        account.go_negative(at=now, by=by, description=description, reason_codes=codes)
        _status_event(account, GO_NEGATIVE.event, codes, now)
        return GO_NEGATIVE.name
    if account.status in RECOVER.source and account.available >= 0:
        # The caller's codes name the real cause (a repayment, a refund, a raise, an appeal),
        # which is what the customer reads on the status banner.
        account.recover(at=now, by=by, description=description, reason_codes=codes)
        _status_event(account, RECOVER.event, codes, now)
        return RECOVER.name
    return None


@transaction.atomic
def account_freeze(
    *, account: CreditAccount, reason: str, now: datetime, actor: User | None = None, note: str = ""
) -> CreditAccount:
    """Stop purchases. Freezing an already frozen account adds the reason (no second transition)."""
    if actor is not None:
        permission_require(actor, FREEZE_ACCOUNT)
    if reason not in FreezeReason.values:
        raise ReasonRequired()
    if actor is not None and not note.strip():
        raise ReasonRequired()
    account = account_lock(account)
    codes = [FREEZE_REASON_CODES[reason]]
    if account.status == AccountStatus.FROZEN:
        if reason not in account.freeze_reasons:
            account.freeze_reasons = freeze_reasons_with(account.freeze_reasons, reason)
            account.save(update_fields=["freeze_reasons"])
        return account
    if not can_proceed(account.freeze):
        raise TransitionRefused()
    account.freeze(
        reason=reason,
        at=now,
        by=actor,
        description=audit_description(codes, note),
        reason_codes=codes,
    )
    account.save()
    _status_event(account, FREEZE.event, codes, now)
    return account


@transaction.atomic
def account_unfreeze(
    *,
    account: CreditAccount,
    now: datetime,
    actor: User | None = None,
    note: str = "",
    reason_codes: list[str] | None = None,
    only_reason: str | None = None,
) -> CreditAccount:
    """Lift a freeze → RESTORED (probation), or NEGATIVE if available is still below zero.

    `only_reason` lifts just that reason (servicing cures OVERDUE); the account stays frozen
    while another reason remains.
    """
    if actor is not None:
        permission_require(actor, FREEZE_ACCOUNT)
    if actor is not None and not note.strip():
        raise ReasonRequired()
    account = account_lock(account)
    if account.status != AccountStatus.FROZEN:
        raise TransitionRefused()
    if only_reason is not None:
        remaining = [r for r in account.freeze_reasons if r != only_reason]
        if remaining:
            account.freeze_reasons = remaining
            account.save(update_fields=["freeze_reasons"])
            return account
    codes = list(reason_codes or UNFREEZE.reasons)
    account.unfreeze(
        at=now, by=actor, description=audit_description(codes, note), reason_codes=codes
    )
    account.save()
    _status_event(account, UNFREEZE.event, codes, now)
    if account.status == UNFREEZE.target_when_short:
        _status_event(account, GO_NEGATIVE.event, codes, now)
    return account


@transaction.atomic
def account_close(
    *, account: CreditAccount, now: datetime, actor: User | None = None, note: str = ""
) -> CreditAccount:
    account = account_lock(account)
    # Zero principal is not enough: fees and penalties still owed keep the line open.
    if not can_proceed(account.close) or account.installments.filter(INSTALLMENT_OPEN).exists():
        raise AccountHasBalance()
    codes = list(CLOSE.reasons)
    account.close(at=now, by=actor, description=audit_description(codes, note), reason_codes=codes)
    account.save()
    return account
