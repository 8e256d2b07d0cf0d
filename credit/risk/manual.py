"""Staff limit changes with the same cooling-off as the risk engine's cuts.

A staff cut that needs notice (credit.formulas.cut_needs_notice: deeper than
RISK_COOLING_OFF_CUT_PERCENT, or leaving available credit below zero, or on a NEGATIVE
account) is announced as a `PendingLimitDecrease` of kind ANNOUNCED_CUT: the customer gets
LIMIT_DECREASE_PENDING with the reasons, the date and the appeal link, and the cut waits
RISK_COOLING_OFF_HOURS. It applies when confirmed after that time — by risk staff, or by the
next rescoring run — and never while an appeal against it is open (credit.risk.pending).
A cut naming a reason in `core.reasons.ACTS_AT_ONCE` (confirmed fraud, legal order,
deceased, the customer's own request) acts at once; its LIMIT_CUT notice carries the
reasons and an appeal link. `credit.services.limit_set` refuses a staff cut that needs
notice without such a reason, so no path skips the announcement.

Stable signatures:

    limit_change_by_staff(*, account, new_base_limit, reason_codes, note, actor, now)
        -> LimitChange | PendingLimitDecrease
    limit_cut_announce(*, account, new_base_limit, reason_codes, note, actor, now)
        -> PendingLimitDecrease
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from core.events import publish_many
from core.permissions import permission_require
from core.reasons import ACTS_AT_ONCE
from credit.formulas import effective_limit
from credit.models import ApprovalRequest, CreditAccount, LimitChange, LimitChangeKind
from credit.money import quantize
from credit.risk.bulk import pending_decrease_notice
from credit.risk.errors import NotACut, PendingDecreaseExists
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.services import account_lock, limit_set
from credit.services.errors import InvalidAmount, ReasonRequired
from credit.services.limits import cut_needs_notice_now
from credit.services.notices import reason_words
from credit.services.permissions import SET_LIMIT


def _checked(actor: User, reason_codes: list[str], note: str, new_base_limit) -> Decimal:
    permission_require(actor, SET_LIMIT)
    if not reason_codes or not (note or "").strip():
        raise ReasonRequired()
    new_base_limit = quantize(Decimal(new_base_limit))
    if new_base_limit < 0:
        raise InvalidAmount()
    return new_base_limit


@transaction.atomic
def limit_cut_announce(
    *,
    account: CreditAccount | int,
    new_base_limit: Decimal,
    reason_codes: list[str],
    note: str,
    actor: User,
    now: datetime,
) -> PendingLimitDecrease:
    """Announce a staff cut: it applies after RISK_COOLING_OFF_HOURS, once confirmed."""
    new_base_limit = _checked(actor, reason_codes, note, new_base_limit)
    account = account_lock(account)
    if new_base_limit >= account.base_limit:
        raise NotACut()
    if account.pending_decreases.filter(status=PendingStatus.PENDING).exists():
        raise PendingDecreaseExists()
    old_base, old_effective = account.base_limit, account.effective_limit
    new_effective = effective_limit(
        base=new_base_limit, temporary=account.temporary_limit, cap=account.probation_limit_cap
    )
    try:
        with transaction.atomic():
            pending = PendingLimitDecrease.objects.create(
                account=account,
                run=None,
                kind=LimitChangeKind.ANNOUNCED_CUT,
                old_base_limit=old_base,
                new_base_limit=new_base_limit,
                old_effective_limit=old_effective,
                new_effective_limit=new_effective,
                reason_codes=list(reason_codes),
                created_at=now,
                effective_at=now + timedelta(hours=settings.RISK_COOLING_OFF_HOURS),
                announced_by=actor,
                announcement_note=note,
            )
    except IntegrityError as clash:  # a run announced one meanwhile
        raise PendingDecreaseExists() from clash
    publish_many(
        [
            pending_decrease_notice(
                pending_id=pending.pk,
                user=account.customer,
                old_effective=old_effective,
                new_effective=new_effective,
                effective_at=pending.effective_at,
                reason_codes=pending.reason_codes,
                texts={tuple(reason_codes): reason_words(reason_codes)},
            )
        ],
        now=now,
    )
    return pending


@transaction.atomic
def limit_change_by_staff(
    *,
    account: CreditAccount | int,
    new_base_limit: Decimal,
    reason_codes: list[str],
    note: str,
    actor: User,
    now: datetime,
    cut_at_once: str = "",
) -> LimitChange | PendingLimitDecrease | ApprovalRequest:
    """A person sets a base limit: a cut that needs notice is announced (unless a reason in
    ACTS_AT_ONCE applies); anything else goes through `limit_set` (a large raise waits there
    for a second person: the request is returned).

    `cut_at_once`: a reason in ACTS_AT_ONCE staff give for a cut to act without notice; it
    joins the reason codes only if this is a cut (a raise does not record it)."""
    new_base_limit = _checked(actor, reason_codes, note, new_base_limit)
    if cut_at_once and cut_at_once not in ACTS_AT_ONCE:
        raise ReasonRequired()
    account = account_lock(account)
    if cut_at_once and new_base_limit < account.base_limit and cut_at_once not in reason_codes:
        reason_codes = [*reason_codes, cut_at_once]
    acts_at_once = bool(set(reason_codes) & set(ACTS_AT_ONCE))
    if not acts_at_once and cut_needs_notice_now(account=account, new_base_limit=new_base_limit):
        return limit_cut_announce(
            account=account,
            new_base_limit=new_base_limit,
            reason_codes=reason_codes,
            note=note,
            actor=actor,
            now=now,
        )
    return limit_set(
        account=account,
        new_base_limit=new_base_limit,
        kind=LimitChangeKind.MANUAL_OVERRIDE,
        reason_codes=reason_codes,
        note=note,
        actor=actor,
        now=now,
    )
