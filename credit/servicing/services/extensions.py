"""延期: move one installment's due date later, at most once per plan.

    installment_extend(*, installment, days, actor, now, reason) -> InstallmentExtension

Stable signature: approved REPAYMENT_EXTENSION appeals call it with `actor=None` (the appeal
records its reviewer) and the appeal's reason; risk staff call it from the admin with
`actor=request.user`, who needs `servicing.extend_installment`. Refusals, each a CreditError
with a code: `extension_days_out_of_range` (1 to SERVICING_EXTENSION_MAX_DAYS, default 30),
`extension_already_used` (one per plan), `extension_too_short` (the new due date would
still be in the past), `installment_not_open`, `installment_under_acceleration`,
`reason_required`, `permission_denied`.

No penalty in the window: the new due date is today or later, so the installment is
upcoming again (PENDING, 0 days past due), the penalty it accrued so far is waived (a
PENALTY_WAIVER journal entry) and accrual starts afresh after the new date's grace days.
An account frozen only for this overdue is unfrozen by the next close (its cure step).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.events import EventType, publish
from core.permissions import permission_require
from credit.models import Installment, InstallmentPlan, InstallmentStatus, JournalEntryKind
from credit.models import LedgerAccount as L
from credit.services.errors import ReasonRequired
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock
from credit.servicing.errors import (
    ExtensionAlreadyUsed,
    ExtensionDaysOutOfRange,
    ExtensionTooShort,
    InstallmentNotOpen,
    InstallmentUnderAcceleration,
)
from credit.servicing.models import InstallmentExtension
from credit.servicing.services.permissions import EXTEND_INSTALLMENT


@transaction.atomic
def installment_extend(
    *, installment: Installment, days: int, actor: User | None, now: datetime, reason: str
) -> InstallmentExtension:
    if actor is not None:
        permission_require(actor, EXTEND_INSTALLMENT)
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    max_days = settings.SERVICING_EXTENSION_MAX_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= max_days:
        raise ExtensionDaysOutOfRange(
            _("An extension moves a due date by 1 to %(max)s days.") % {"max": max_days},
            max_days=max_days,
        )
    account = account_lock(installment.account_id)
    plan = InstallmentPlan.objects.select_for_update().get(pk=installment.plan_id)
    inst = Installment.objects.select_for_update().get(pk=installment.pk)
    if not inst.is_open:
        raise InstallmentNotOpen()
    if plan.extended_at is not None:
        raise ExtensionAlreadyUsed()
    if inst.due_date_before_acceleration is not None:
        raise InstallmentUnderAcceleration()
    today = timezone.localdate(now)
    old_due, new_due = inst.due_date, inst.due_date + timedelta(days=days)
    if new_due < today:
        needed = (today - old_due).days
        if needed > max_days:
            message = _(
                "This installment is more than %(max)s days overdue, so its due date cannot "
                "be extended."
            ) % {"max": max_days}
        else:
            message = _(
                "The new due date would still be in the past: extend by at least %(needed)s days."
            ) % {"needed": needed}
        raise ExtensionTooShort(message, min_days=needed, max_days=max_days)

    waived = inst.penalty_due
    inst.penalty_waived += waived
    inst.penalty_accrued_through = None
    inst.due_date = new_due
    inst.status = InstallmentStatus.PENDING
    inst.days_past_due = 0
    inst.save(
        update_fields=[
            "penalty_waived",
            "penalty_accrued_through",
            "due_date",
            "status",
            "days_past_due",
        ]
    )
    plan.extended_at = now
    plan.save(update_fields=["extended_at"])
    extension = InstallmentExtension.objects.create(
        installment=inst,
        plan=plan,
        account=account,
        days=days,
        old_due_date=old_due,
        new_due_date=new_due,
        penalty_waived=waived,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    journal_post(
        kind=JournalEntryKind.PENALTY_WAIVER,
        account=account,
        reference=f"extension:{extension.pk}",
        now=now,
        memo="Installment extended",
        lines=[debit(L.PENALTY_INCOME, waived), credit(L.RECEIVABLE_PENALTY, waived)],
    )
    publish(
        event=EventType.INSTALLMENT_EXTENDED,
        user=account.customer,
        context={
            "installment_id": inst.pk,
            "plan_id": plan.pk,
            "old_due_date": old_due.isoformat(),
            "new_due_date": new_due.isoformat(),
            "amount": str(inst.amount_due),
            "penalty_waived": str(waived),
        },
        dedupe_key=f"extension:{extension.pk}",
        now=now,
    )
    return extension
