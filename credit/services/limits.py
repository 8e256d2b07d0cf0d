"""Limit changes: base limit, temporary grants. Every change leaves a LimitChange row."""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.events import EventType, publish
from core.permissions import permission_require
from core.reasons import ACTS_AT_ONCE, ReasonCode
from credit.formulas import available, cut_needs_notice, effective_limit
from credit.models import (
    AccountStatus,
    ApprovalKind,
    ApprovalRequest,
    CreditAccount,
    GrantStatus,
    LimitChange,
    LimitChangeKind,
    TemporaryLimitGrant,
)
from credit.money import quantize, yuan
from credit.services.approvals import (
    EXCEED_POLICY_MAXIMUM,
    approval_execution_check,
    approval_gate,
    approval_kind_register,
    approval_request_open,
    approval_tag,
    row_reference,
)
from credit.services.errors import (
    AccountClosed,
    ApprovalStale,
    CutNeedsNotice,
    InvalidAmount,
    LimitAbovePolicyMaximum,
    ReasonRequired,
)
from credit.services.lifecycle import account_lock, account_status_settle
from credit.services.notices import limit_notice
from credit.services.permissions import GRANT_TEMPORARY_LIMIT, SET_LIMIT


def limit_change_record(
    *,
    account: CreditAccount,
    kind: str,
    old_base: Decimal,
    old_effective: Decimal,
    reason_codes: list[str],
    now: datetime,
    actor: User | None = None,
    run_id: int | None = None,
    note: str = "",
    notify: bool = True,
) -> LimitChange:
    """The audit row of a limit change, and the customer's notice when the usable limit moved
    (`notify=False`: the caller tells the customer in its own notice, e.g. a reversal)."""
    change = LimitChange.objects.create(
        account=account,
        kind=kind,
        old_base_limit=old_base,
        new_base_limit=account.base_limit,
        old_effective_limit=old_effective,
        new_effective_limit=account.effective_limit,
        reason_codes=list(reason_codes),
        actor=actor,
        run_id=run_id,
        note=note,
        created_at=now,
    )
    notice = limit_notice(
        old_limit=old_effective,
        new_limit=change.new_effective_limit,
        available=account.available,
        reason_codes=reason_codes,
        limit_change_id=change.pk,
    )
    # A temporary grant or its expiry has its own notice.
    if (
        notify
        and notice is not None
        and kind
        not in (
            LimitChangeKind.TEMPORARY_GRANT,
            LimitChangeKind.TEMPORARY_EXPIRY,
        )
    ):
        event, context, dedupe_key = notice
        publish(event=event, user=account.customer, context=context, dedupe_key=dedupe_key, now=now)
    return change


def cut_needs_notice_now(*, account: CreditAccount, new_base_limit: Decimal) -> bool:
    """Would lowering this (locked) account's base limit to `new_base_limit` need advance
    notice? The same rule as the risk engine's automated cuts (credit.formulas)."""
    return cut_needs_notice(
        status=account.status,
        base=account.base_limit,
        new_base=new_base_limit,
        available_after=available(
            effective=effective_limit(
                base=new_base_limit,
                temporary=account.temporary_limit,
                cap=account.probation_limit_cap,
            ),
            outstanding=account.outstanding_principal,
        ),
        percent=Decimal(settings.RISK_COOLING_OFF_CUT_PERCENT),
    )


def staff_cut_check(
    *,
    account: CreditAccount,
    new_base_limit: Decimal,
    kind: str,
    actor: User | None,
    reason_codes: list[str],
) -> None:
    """A person's MANUAL_OVERRIDE cut that needs notice acts at once only for a reason in
    `core.reasons.ACTS_AT_ONCE`; otherwise it is announced first (credit.risk.manual), and
    confirmed later as an ANNOUNCED_CUT."""
    if actor is None or kind != LimitChangeKind.MANUAL_OVERRIDE:
        return
    if set(reason_codes) & set(ACTS_AT_ONCE):
        return
    if cut_needs_notice_now(account=account, new_base_limit=new_base_limit):
        raise CutNeedsNotice()


@transaction.atomic
def limit_set(
    *,
    account: CreditAccount,
    new_base_limit: Decimal,
    kind: str = LimitChangeKind.MANUAL_OVERRIDE,
    reason_codes: list[str],
    now: datetime,
    actor: User | None = None,
    run_id: int | None = None,
    note: str = "",
    approval: ApprovalRequest | None = None,
) -> LimitChange | ApprovalRequest:
    """Set the base limit. A cut below what is owed sends the account NEGATIVE in this transaction.

    A staff raise past the four-eyes thresholds is not applied: the request waiting for a second
    person is returned instead (`limit_raise_gate`)."""
    if actor is not None:
        permission_require(actor, SET_LIMIT)
    if not reason_codes or (
        actor is not None and kind == LimitChangeKind.MANUAL_OVERRIDE and not note.strip()
    ):
        raise ReasonRequired()
    new_base_limit = quantize(new_base_limit)
    if new_base_limit < 0:
        raise InvalidAmount()
    waiting = limit_raise_gate(
        account=account,
        new_base_limit=new_base_limit,
        kind=kind,
        reason_codes=reason_codes,
        note=note,
        actor=actor,
        approval=approval,
        now=now,
    )
    if waiting is not None:
        return waiting
    account = account_lock(account)
    staff_cut_check(
        account=account,
        new_base_limit=new_base_limit,
        kind=kind,
        actor=actor,
        reason_codes=reason_codes,
    )
    old_base, old_effective = account.base_limit, account.effective_limit
    account.base_limit = new_base_limit
    account_status_settle(
        account=account,
        now=now,
        by=actor,
        reason_codes=reason_codes,
        note=note,
        run_id=run_id,
        limit_before=old_base,
    )
    account.save()
    return limit_change_record(
        account=account,
        kind=kind,
        old_base=old_base,
        old_effective=old_effective,
        reason_codes=reason_codes,
        now=now,
        actor=actor,
        run_id=run_id,
        note=note,
    )


@transaction.atomic
def temporary_limit_grant(
    *,
    account: CreditAccount,
    amount: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    campaign: str = "",
    reason: str = "",
    actor: User | None = None,
    run_id: int | None = None,
    approval: ApprovalRequest | None = None,
) -> TemporaryLimitGrant | ApprovalRequest:
    """Add a temporary limit; it applies now if it has started, else when the close starts it.

    A staff grant above APPROVAL_GRANT_ABOVE waits for a second person (the request is returned)."""
    if actor is not None:
        permission_require(actor, GRANT_TEMPORARY_LIMIT)
    amount = quantize(amount)
    if amount <= 0 or ends_at <= starts_at or ends_at <= now:
        raise InvalidAmount()
    if actor is not None and not (reason.strip() or campaign.strip()):
        raise ReasonRequired()
    account = account_lock(account)
    if account.status == AccountStatus.CLOSED:
        raise AccountClosed()
    if approval is not None or amount > settings.APPROVAL_GRANT_ABOVE:
        waiting = approval_gate(
            kind=ApprovalKind.TEMPORARY_GRANT,
            target=account,
            actor=actor,
            approval=approval,
            now=now,
            summary=_("#%(account)s: temporary +%(amount)s until %(ends)s")
            % {"account": account.pk, "amount": yuan(amount), "ends": ends_at.date()},
            payload={
                "amount": str(amount),
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "campaign": campaign,
                "reason": reason,
            },
            reason=reason or campaign,
        )
        if waiting is not None:
            return waiting
    grant = TemporaryLimitGrant.objects.create(
        account=account,
        amount=amount,
        starts_at=starts_at,
        ends_at=ends_at,
        campaign=campaign,
        reason=reason,
        granted_by=actor,
        created_at=now,
    )
    if starts_at <= now:
        temporary_grant_apply(account=account, grant=grant, now=now, actor=actor, run_id=run_id)
    return grant


def temporary_grant_apply(
    *,
    account: CreditAccount,
    grant: TemporaryLimitGrant,
    now: datetime,
    actor: User | None = None,
    run_id: int | None = None,
) -> None:
    """Start a scheduled grant (the account is locked by the caller)."""
    old_base, old_effective = account.base_limit, account.effective_limit
    account.temporary_limit += grant.amount
    grant.status = GrantStatus.ACTIVE
    grant.save(update_fields=["status"])
    codes = [ReasonCode.CAMPAIGN if grant.campaign else ReasonCode.TEMPORARY_GRANT]
    account_status_settle(account=account, now=now, by=actor, reason_codes=codes, run_id=run_id)
    account.save()
    limit_change_record(
        account=account,
        kind=LimitChangeKind.TEMPORARY_GRANT,
        old_base=old_base,
        old_effective=old_effective,
        reason_codes=codes,
        now=now,
        actor=actor,
        run_id=run_id,
        note=grant.campaign or grant.reason,
    )
    publish(
        event=EventType.TEMPORARY_LIMIT_GRANTED,
        user=account.customer,
        context={
            "amount": str(grant.amount),
            "ends_at": grant.ends_at.isoformat(),
            "campaign": grant.campaign,
            "effective_limit": str(account.effective_limit),
        },
        dedupe_key=f"grant:{grant.pk}:granted",
        now=now,
    )


# --- four eyes on exposure -------------------------------------------------------------------
# The active risk policy's maximum base limit (None: no policy). The risk engine, a layer above,
# provides it (credit.risk.apps); until it does, there is no maximum to enforce.
_policy_maximum: list[Callable[[], Decimal | None]] = []


def limit_policy_maximum_register(provider: Callable[[], Decimal | None]) -> None:
    _policy_maximum[:] = [provider]


def limit_policy_maximum() -> Decimal | None:
    return _policy_maximum[0]() if _policy_maximum else None


def limit_raise_needs_approval(*, old: Decimal, new: Decimal) -> bool:
    """A raise to more than APPROVAL_LIMIT_ABOVE, or by more than APPROVAL_LIMIT_RAISE_PERCENT."""
    return new > old and (
        new > settings.APPROVAL_LIMIT_ABOVE
        or new > old * (1 + settings.APPROVAL_LIMIT_RAISE_PERCENT / 100)
    )


def limit_raise_gate(
    *,
    account: CreditAccount,
    new_base_limit: Decimal,
    kind: str,
    reason_codes: list[str],
    note: str,
    actor: User | None,
    approval: ApprovalRequest | None,
    now: datetime,
) -> ApprovalRequest | None:
    """Four eyes on a staff raise of the base limit (the top of `limit_set`): None when it may
    apply now, else the request that waits. A limit above the active policy's maximum is refused,
    unless a risk manager asks and a second one approves. Cuts and the system pass."""
    if actor is None or kind != LimitChangeKind.MANUAL_OVERRIDE:
        return None
    current = CreditAccount.objects.select_for_update(of=("self",)).get(pk=account.pk).base_limit
    maximum = limit_policy_maximum()
    over = maximum is not None and new_base_limit > maximum
    if approval is not None:
        approval_execution_check(
            approval, kind=ApprovalKind.BASE_LIMIT, target=account, actor=actor
        )
        if Decimal(approval.payload["old_base_limit"]) != current:
            raise ApprovalStale()
        if over and not (
            approval.maker.has_perm(EXCEED_POLICY_MAXIMUM) and actor.has_perm(EXCEED_POLICY_MAXIMUM)
        ):
            raise _above_maximum(maximum)
        return None
    if new_base_limit <= current:
        return None
    if over and not actor.has_perm(EXCEED_POLICY_MAXIMUM):
        raise _above_maximum(maximum)
    if not over and not limit_raise_needs_approval(old=current, new=new_base_limit):
        return None
    return approval_request_open(
        kind=ApprovalKind.BASE_LIMIT,
        target=account,
        payload={
            "old_base_limit": str(current),
            "new_base_limit": str(new_base_limit),
            "reason_codes": list(reason_codes),
            "note": note,
            "over_policy_maximum": over,
        },
        summary=_("#%(account)s: base limit %(old)s → %(new)s")
        % {"account": account.pk, "old": yuan(current), "new": yuan(new_base_limit)},
        maker=actor,
        now=now,
        reason=note,
    )


def _above_maximum(maximum: Decimal) -> LimitAbovePolicyMaximum:
    return LimitAbovePolicyMaximum(
        _(
            "This limit is above the active risk policy's maximum of %(max)s. Only a risk "
            "manager may ask for it, and a second risk manager must approve it."
        )
        % {"max": yuan(maximum)},
        maximum=str(maximum),
    )


def _limit_execute(*, request: ApprovalRequest, actor: User, now: datetime) -> str:
    payload = request.payload
    change = limit_set(
        account=CreditAccount.objects.get(pk=request.target_object_id),
        new_base_limit=Decimal(payload["new_base_limit"]),
        reason_codes=payload["reason_codes"],
        note=f"{payload['note']} {approval_tag(request)}",
        actor=actor,
        now=now,
        approval=request,
    )
    return row_reference(change)


def _grant_execute(*, request: ApprovalRequest, actor: User, now: datetime) -> str:
    payload = request.payload
    grant = temporary_limit_grant(
        account=CreditAccount.objects.get(pk=request.target_object_id),
        amount=Decimal(payload["amount"]),
        starts_at=datetime.fromisoformat(payload["starts_at"]),
        ends_at=datetime.fromisoformat(payload["ends_at"]),
        campaign=payload["campaign"],
        reason=f"{payload['reason']} {approval_tag(request)}".strip()[:255],
        actor=actor,
        now=now,
        approval=request,
    )
    return row_reference(grant)


approval_kind_register(
    ApprovalKind.BASE_LIMIT,
    permission=SET_LIMIT,
    execute=_limit_execute,
    waits_for=gettext_lazy("a second officer who may set limits"),
)
approval_kind_register(
    ApprovalKind.TEMPORARY_GRANT,
    permission=GRANT_TEMPORARY_LIMIT,
    execute=_grant_execute,
    waits_for=gettext_lazy("a second risk manager"),
)
