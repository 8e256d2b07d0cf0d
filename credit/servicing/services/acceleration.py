"""提前结清: a risk manager demands early repayment of a FROZEN account; it can be withdrawn.

Every open installment due later than `SERVICING_ACCELERATION_DAYS` (15) from today becomes
due on that day; its previous due date is kept in `due_date_before_acceleration`.
Installments already due sooner keep their dates. The customer is told the reason (the
staff's words and the reason codes of the freeze) and how to appeal. Withdrawal puts every
moved due date back and waives the penalty those installments accrued (the next close
charges again, from the original due date, any days really past due).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import User
from core.events import EventType, publish
from core.permissions import permission_require
from core.reasons import ReasonCode, reason_texts
from credit.formulas import AMOUNT_DUE, INSTALLMENT_OPEN
from credit.models import (
    AccountStatus,
    CreditAccount,
    Installment,
    InstallmentStatus,
    JournalEntryKind,
)
from credit.models import LedgerAccount as L
from credit.money import ZERO
from credit.services.errors import ReasonRequired
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock
from credit.servicing.errors import (
    AccelerationAlreadyActive,
    AccelerationNeedsFrozenAccount,
    AccelerationNotActive,
    NothingToAccelerate,
)
from credit.servicing.models import Acceleration, AccelerationStatus
from credit.servicing.services.permissions import DEMAND_ACCELERATION, WITHDRAW_ACCELERATION
from credit.transitions import FREEZE_REASON_CODES

# Where the customer contests a demand (the appeals portal; see notifications' catalogue).
APPEAL_URL = "/appeals/new/?acceleration={id}"


@transaction.atomic
def acceleration_demand(
    *, account: CreditAccount, reason: str, actor: User, now: datetime
) -> Acceleration:
    """Demand early repayment. Only a risk manager (`servicing.demand_acceleration`), only on
    a FROZEN account, only with a reason the customer will read."""
    permission_require(actor, DEMAND_ACCELERATION)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    account = account_lock(account)
    if account.status != AccountStatus.FROZEN:
        raise AccelerationNeedsFrozenAccount()
    if Acceleration.objects.filter(account=account, status=AccelerationStatus.ACTIVE).exists():
        raise AccelerationAlreadyActive()
    open_installments = Installment.objects.filter(INSTALLMENT_OPEN, account=account)
    owed = open_installments.aggregate(owed=Sum(AMOUNT_DUE))["owed"]
    if owed is None:
        raise NothingToAccelerate()
    due_date = timezone.localdate(now) + timedelta(days=settings.SERVICING_ACCELERATION_DAYS)
    moved = open_installments.filter(due_date__gt=due_date).update(
        due_date_before_acceleration=F("due_date"), due_date=due_date
    )
    codes = [FREEZE_REASON_CODES[r] for r in account.freeze_reasons if r in FREEZE_REASON_CODES]
    acceleration = Acceleration.objects.create(
        account=account,
        reason=reason,
        reason_codes=codes,
        due_date=due_date,
        amount=owed,
        installments_moved=moved,
        demanded_by=actor,
        demanded_at=now,
    )
    publish(
        event=EventType.ACCELERATION,
        user=account.customer,
        context={
            "acceleration_id": acceleration.pk,
            "amount": str(owed),
            "due_date": due_date.isoformat(),
            "reason": reason,
            "reason_codes": codes,
            "reasons": [str(text) for text in reason_texts(codes)],
            "appeal_url": APPEAL_URL.format(id=acceleration.pk),
        },
        dedupe_key=f"acceleration:{acceleration.pk}",
        now=now,
    )
    return acceleration


@transaction.atomic
def acceleration_withdraw(
    *,
    acceleration: Acceleration,
    actor: User | None,
    now: datetime,
    note: str,
    reason_codes: list[str] | None = None,
    notify: bool = True,
) -> Acceleration:
    """Withdraw a demand and restore the original schedule.

    A person needs `servicing.withdraw_acceleration`; `actor=None` is an approved appeal
    taking effect (pass `reason_codes=[ReasonCode.APPEAL_APPROVED]`). `note` is required.
    `notify=False`: the caller tells the customer itself (an appeal reversing the demand as
    our error sends DECISION_REVERSED instead).
    """
    if actor is not None:
        permission_require(actor, WITHDRAW_ACCELERATION)
    note = (note or "").strip()
    if not note:
        raise ReasonRequired()
    account = account_lock(acceleration.account_id)
    acceleration = Acceleration.objects.select_for_update().get(pk=acceleration.pk)
    if acceleration.status != AccelerationStatus.ACTIVE:
        raise AccelerationNotActive()
    today = timezone.localdate(now)
    moved = list(
        Installment.objects.select_for_update().filter(
            account=account, due_date_before_acceleration__isnull=False
        )
    )
    waived = ZERO
    for inst in moved:
        original = inst.due_date_before_acceleration
        if inst.is_open:
            waived += inst.penalty_due
            inst.penalty_waived += inst.penalty_due
            inst.penalty_accrued_through = None
            past_due = (today - original).days
            inst.status = InstallmentStatus.OVERDUE if past_due > 0 else InstallmentStatus.PENDING
            inst.days_past_due = max(past_due, 0)
        inst.due_date, inst.due_date_before_acceleration = original, None
    Installment.objects.bulk_update(
        moved,
        [
            "due_date",
            "due_date_before_acceleration",
            "penalty_waived",
            "penalty_accrued_through",
            "status",
            "days_past_due",
        ],
    )
    journal_post(
        kind=JournalEntryKind.PENALTY_WAIVER,
        account=account,
        reference=f"acceleration:{acceleration.pk}",
        now=now,
        memo="Early repayment demand withdrawn",
        lines=[debit(L.PENALTY_INCOME, waived), credit(L.RECEIVABLE_PENALTY, waived)],
    )
    acceleration.status = AccelerationStatus.WITHDRAWN
    acceleration.withdrawn_by = actor
    acceleration.withdrawn_at = now
    acceleration.withdrawn_note = note
    acceleration.save(update_fields=["status", "withdrawn_by", "withdrawn_at", "withdrawn_note"])
    codes = list(reason_codes or [ReasonCode.STAFF_DECISION])
    if not notify:
        return acceleration
    publish(
        event=EventType.ACCELERATION_WITHDRAWN,
        user=account.customer,
        context={
            "acceleration_id": acceleration.pk,
            "reason_codes": codes,
            "reasons": [str(text) for text in reason_texts(codes)],
            "penalty_waived": str(Decimal(waived)),
        },
        dedupe_key=f"acceleration:{acceleration.pk}:withdrawn",
        now=now,
    )
    return acceleration
