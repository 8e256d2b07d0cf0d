"""Limit changes: base limit, temporary grants. Every change leaves a LimitChange row."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.events import EventType, publish
from core.permissions import permission_require
from core.reasons import ACTS_AT_ONCE, ReasonCode
from credit.formulas import available, cut_needs_notice, effective_limit
from credit.models import (
    AccountStatus,
    CreditAccount,
    GrantStatus,
    LimitChange,
    LimitChangeKind,
    TemporaryLimitGrant,
)
from credit.money import quantize
from credit.services.errors import AccountClosed, CutNeedsNotice, InvalidAmount, ReasonRequired
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
) -> LimitChange:
    """Set the base limit. A cut below what is owed sends the account NEGATIVE in this transaction."""
    if actor is not None:
        permission_require(actor, SET_LIMIT)
    if not reason_codes or (
        actor is not None and kind == LimitChangeKind.MANUAL_OVERRIDE and not note.strip()
    ):
        raise ReasonRequired()
    new_base_limit = quantize(new_base_limit)
    if new_base_limit < 0:
        raise InvalidAmount()
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
) -> TemporaryLimitGrant:
    """Add a temporary limit; it applies now if it has started, else when the close starts it."""
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
