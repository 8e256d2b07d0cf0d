"""Refunds: a merchant gives back part or all of a purchase; principal falls from the last
installment back, fees follow, and what was already repaid comes back as credit balance."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from core.events import EventType, publish
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    Installment,
    InstallmentStatus,
    JournalEntryKind,
    PlanStatus,
    Purchase,
    PurchaseStatus,
    Refund,
)
from credit.models import LedgerAccount as L
from credit.money import ZERO, quantize
from credit.services.amounts import amount_validate
from credit.services.errors import AccountClosed, IdempotencyKeyConflict, RefundTooLarge
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock, account_status_settle
from credit.services.repayments import credit_balance_apply


def _fee_on_refunded(inst: Installment, take: Decimal) -> Decimal:
    """The fee on `take` more refunded principal: the step in the fee on everything refunded.

    Rounding the cumulative share (not each slice on its own) makes the slices add up to the
    whole fee once the whole principal is refunded, so no cent of fee is left owed.
    """
    refunded = inst.principal_refunded + inst.principal_paid_refunded
    before = quantize(inst.fee * refunded / inst.principal)
    after = quantize(inst.fee * (refunded + take) / inst.principal)
    return after - before


def _fee_relieve(inst: Installment, take: Decimal) -> tuple[Decimal, Decimal]:
    """The fee on `take` more refunded principal of `inst`: waived while it is owed, returned
    (as credit balance) where the customer already paid it. Returns (waived, returned)."""
    share = _fee_on_refunded(inst, take)
    waived = min(inst.fee_due, share)
    returned = min(share - waived, inst.fee_paid - inst.fee_returned)
    inst.fee_waived += waived
    inst.fee_returned += returned
    return waived, returned


# A refund takes principal from the last installment back: first what is still owed, then
# (a refund larger than that) what was already repaid, which goes back as credit balance.
_REFUND_PASSES = (
    ("principal_refunded", lambda inst: inst.principal_due),
    ("principal_paid_refunded", lambda inst: inst.principal_paid - inst.principal_paid_refunded),
)


@transaction.atomic
def purchase_refund(
    *, purchase: Purchase, amount, idempotency_key: str, now: datetime, merchant_reference: str = ""
) -> Refund:
    """A merchant refund: remaining principal falls from the last installment backwards.

    Fees on the refunded principal are waived. A refund larger than what remains owed reaches
    principal the customer already repaid (again from the last installment back): that
    principal and the fee they paid on it come back as credit balance, so a purchase
    refunded in full costs the customer nothing.
    """
    amount = amount_validate(amount)
    account = account_lock(purchase.account_id)
    purchase = Purchase.objects.select_for_update().get(pk=purchase.pk)
    existing = Refund.objects.filter(purchase=purchase, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.amount != amount:
            raise IdempotencyKeyConflict()
        return existing
    if amount > purchase.amount - purchase.refunded_amount:
        raise RefundTooLarge(refundable=str(purchase.amount - purchase.refunded_amount))
    if account.status == AccountStatus.CLOSED:
        # A closed line owes nothing and may hold no balance: the refund would have nowhere
        # to go (the CHECK constraint would refuse it); the merchant returns it another way.
        raise AccountClosed()

    plan = purchase.plan
    installments = list(plan.installments.select_for_update().order_by("-sequence"))
    left, fees_waived, fees_returned = amount, ZERO, ZERO
    taken = {field: ZERO for field, _refundable in _REFUND_PASSES}
    for field, refundable in _REFUND_PASSES:
        for inst in installments:
            take = min(left, refundable(inst))
            if take <= 0:
                continue
            waived, returned = _fee_relieve(inst, take)
            setattr(inst, field, getattr(inst, field) + take)
            left -= take
            taken[field] += take
            fees_waived += waived
            fees_returned += returned
    principal_reduced = taken["principal_refunded"]
    for inst in installments:
        if inst.is_open and inst.amount_due == 0:
            paid_anything = inst.principal_paid or inst.fee_paid or inst.penalty_paid
            inst.status = InstallmentStatus.PAID if paid_anything else InstallmentStatus.WAIVED
            inst.paid_at = inst.paid_at or now
    Installment.objects.bulk_update(
        installments,
        [
            "principal_refunded",
            "principal_paid_refunded",
            "fee_waived",
            "fee_returned",
            "status",
            "paid_at",
        ],
    )
    # What did not reduce the debt goes back to the customer, with the fees they paid on it.
    principal_returned = amount - principal_reduced
    credit_added = principal_returned + fees_returned

    purchase.refunded_amount += amount
    purchase.status = (
        PurchaseStatus.REFUNDED
        if purchase.refunded_amount == purchase.amount
        else PurchaseStatus.PARTIALLY_REFUNDED
    )
    purchase.save(update_fields=["refunded_amount", "status"])
    if all(not inst.is_open for inst in installments):
        plan.status = (
            PlanStatus.REFUNDED
            if purchase.status == PurchaseStatus.REFUNDED
            else PlanStatus.PAID_OFF
        )
        plan.closed_at = now
        plan.save(update_fields=["status", "closed_at"])

    account.outstanding_principal -= principal_reduced
    account.credit_balance += credit_added
    account_status_settle(account=account, now=now, reason_codes=[ReasonCode.REFUNDED_ABOVE_ZERO])
    account.save()

    refund = Refund.objects.create(
        purchase=purchase,
        amount=amount,
        principal_reduced=principal_reduced,
        fees_waived=fees_waived,
        fees_returned=fees_returned,
        credit_balance_added=credit_added,
        merchant_reference=merchant_reference,
        idempotency_key=idempotency_key,
        created_at=now,
    )
    reference = f"refund:{refund.pk}"
    journal_post(
        kind=JournalEntryKind.REFUND,
        account=account,
        reference=reference,
        now=now,
        lines=[
            debit(L.MERCHANT_PAYABLE, amount),
            credit(L.RECEIVABLE_PRINCIPAL, principal_reduced),
            credit(L.CUSTOMER_CREDIT, principal_returned),
        ],
    )
    journal_post(
        kind=JournalEntryKind.FEE_WAIVER,
        account=account,
        reference=reference,
        now=now,
        lines=[debit(L.FEE_INCOME, fees_waived), credit(L.RECEIVABLE_FEE, fees_waived)],
    )
    journal_post(
        kind=JournalEntryKind.FEE_RETURN,
        account=account,
        reference=reference,
        now=now,
        lines=[debit(L.FEE_INCOME, fees_returned), credit(L.CUSTOMER_CREDIT, fees_returned)],
    )
    if credit_added > 0:  # money back while other plans are open pays them first
        credit_balance_apply(account=account, now=now, source=f"refund:{refund.pk}")
    publish(
        event=EventType.REFUND_RECEIVED,
        user=account.customer,
        context={
            "purchase_id": purchase.pk,
            "merchant": purchase.merchant.name,
            "amount": str(amount),
            "principal_reduced": str(principal_reduced),
            "fees_waived": str(fees_waived),
            "fees_returned": str(fees_returned),
            "credit_balance_added": str(credit_added),
        },
        dedupe_key=f"refund:{refund.pk}",
        now=now,
    )
    return refund
