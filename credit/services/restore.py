"""Giving a limit back at exactly the amount a reviewer chose (an approved restoration appeal)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from core.permissions import permission_require
from credit.models import AccountStatus, LimitChange, LimitChangeKind
from credit.money import quantize
from credit.services.errors import AccountClosed, InvalidAmount, ReasonRequired
from credit.services.lifecycle import account_lock, account_status_settle
from credit.services.limits import limit_change_record
from credit.services.permissions import SET_LIMIT


@transaction.atomic
def limit_restore_exactly(
    *,
    account,
    base_limit: Decimal,
    reason_codes: list[str],
    now: datetime,
    actor: User | None = None,
    note: str = "",
    kind: str = LimitChangeKind.APPEAL,
) -> LimitChange:
    """Set the base limit to `base_limit` and make it the whole limit, now.

    Unlike `limit_set`, this also forgets the limit from before the incident and lifts a
    probation cap: servicing's close would otherwise cap the line at a share of the old
    limit and later lift it to that old limit — more, or less, than the reviewer chose.
    Still owing more than `base_limit` sends the account NEGATIVE (its own incident, whose
    recovery comes back to `base_limit`, never above it).
    """
    if actor is not None:
        permission_require(actor, SET_LIMIT)
    if not reason_codes:
        raise ReasonRequired()
    base_limit = quantize(base_limit)
    if base_limit < 0:
        raise InvalidAmount()
    account = account_lock(account)
    if account.status == AccountStatus.CLOSED:
        raise AccountClosed()
    old_base, old_effective = account.base_limit, account.effective_limit
    account.base_limit = base_limit
    account.pre_incident_limit = None
    account.probation_limit_cap = None
    account_status_settle(
        account=account, now=now, by=actor, reason_codes=reason_codes, note=note, limit_before=None
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
        note=note,
    )
