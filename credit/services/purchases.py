"""Purchases: quote, authorise (split into installments), refund."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credit.models import (
    AccountStatus,
    CreditAccount,
    FeeSchedule,
    Installment,
    InstallmentPlan,
    InstallmentStatus,
    JournalEntryKind,
    Merchant,
    PlanStatus,
    Purchase,
    PurchaseStatus,
    Refund,
)
from credit.models import LedgerAccount as L
from credit.money import CENT, ZERO, parse_amount, quantize
from credit.pricing import Quote, build_quote
from credit.reasons import ReasonCode
from credit.services.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNegative,
    AmountTooLarge,
    AmountTooSmallForTerm,
    IdempotencyKeyConflict,
    InsufficientCredit,
    InvalidAmount,
    RefundTooLarge,
    UnknownTerm,
)
from credit.services.fees import fee_schedule_active
from credit.services.ledger import credit, debit, journal_post, journal_post_many
from credit.services.lifecycle import account_lock, account_status_settle
from notifications.events import EventType, publish

# The largest amount a MoneyField (14 digits, 2 places) holds; beyond it the database would
# refuse the row with a 500, so it is refused here as bad input.
MONEY_MAX = Decimal("999999999999.99")


def amount_validate(raw) -> Decimal:
    """A positive amount with at most two decimals that a money column can hold, or InvalidAmount."""
    try:
        amount = parse_amount(raw)
    except (ValueError, TypeError, ArithmeticError) as exc:
        # ArithmeticError: decimal.InvalidOperation when "1e3000" cannot be quantised.
        raise InvalidAmount() from exc
    if amount <= 0 or amount > MONEY_MAX:
        raise InvalidAmount()
    return amount


def _single_purchase_max(merchant: Merchant | None) -> Decimal:
    if merchant is not None and merchant.single_purchase_max is not None:
        return merchant.single_purchase_max
    return Decimal(settings.CREDIT_SINGLE_PURCHASE_MAX)


def purchase_quote(
    *,
    account: CreditAccount,
    amount,
    term: int,
    now: datetime,
    schedule: FeeSchedule | None = None,
    merchant: Merchant | None = None,
) -> Quote:
    """The schedule and annualised rate the customer will get, before any commitment."""
    amount = amount_validate(amount)
    if amount > _single_purchase_max(merchant):
        raise AmountTooLarge()
    schedule = schedule or fee_schedule_active()
    try:
        rate = schedule.monthly_rate(int(term))
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownTerm() from exc
    if amount < CENT * int(term):
        # Every installment must carry principal: one of 0.00 would sit open with nothing to
        # pay, then turn overdue and count against the customer.
        raise AmountTooSmallForTerm(term=int(term), minimum=str(CENT * int(term)))
    return build_quote(
        amount=amount,
        term=int(term),
        monthly_fee_rate=rate,
        purchase_date=timezone.localdate(now),
        due_day=account.due_day,
    )


def purchase_quotes(
    *, account: CreditAccount, amount, now: datetime, merchant: Merchant | None = None
) -> list[Quote]:
    """A quote for every term offered for this amount, for the checkout's term picker."""
    schedule = fee_schedule_active()
    amount = amount_validate(amount)
    return [
        purchase_quote(
            account=account, amount=amount, term=term, now=now, schedule=schedule, merchant=merchant
        )
        for term in schedule.offered_terms
        if amount >= CENT * term
    ]


_STATUS_REFUSALS = {
    AccountStatus.FROZEN: AccountFrozen,
    AccountStatus.NEGATIVE: AccountNegative,
    AccountStatus.CLOSED: AccountClosed,
}


@transaction.atomic
def purchase_authorize(
    *,
    account: CreditAccount,
    merchant: Merchant,
    amount,
    term: int,
    idempotency_key: str,
    now: datetime,
    description: str = "",
    merchant_reference: str = "",
) -> Purchase:
    """Authorise a purchase on the credit line and split it into an installment plan.

    The account row is locked for the check and the update, so concurrent authorisations
    can never together exceed the available credit (invariant 3).
    """
    schedule = fee_schedule_active()
    quote = purchase_quote(
        account=account, amount=amount, term=term, now=now, schedule=schedule, merchant=merchant
    )
    account = account_lock(account)
    existing = Purchase.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if existing is not None:
        if (existing.amount, existing.term_months, existing.merchant_id) != (
            quote.amount,
            quote.term_months,
            merchant.pk,
        ):
            raise IdempotencyKeyConflict()
        return existing
    if account.status in _STATUS_REFUSALS:
        raise _STATUS_REFUSALS[account.status]()
    if quote.amount > account.available:
        raise InsufficientCredit(available=str(account.available))

    purchase = Purchase.objects.create(
        account=account,
        merchant=merchant,
        amount=quote.amount,
        term_months=quote.term_months,
        description=description,
        merchant_reference=merchant_reference,
        idempotency_key=idempotency_key,
        created_at=now,
    )
    plan = InstallmentPlan.objects.create(
        purchase=purchase,
        account=account,
        fee_schedule=schedule,
        principal=quote.amount,
        term_months=quote.term_months,
        monthly_fee_rate=quote.monthly_fee_rate,
        total_fee=quote.total_fee,
        annual_rate=quote.annual_rate,
        created_at=now,
    )
    Installment.objects.bulk_create(
        Installment(
            plan=plan,
            account=account,
            sequence=p.sequence,
            due_date=p.due_date,
            original_due_date=p.due_date,
            principal=p.principal,
            fee=p.fee,
        )
        for p in quote.periods
    )
    account.outstanding_principal += quote.amount
    account.save(update_fields=["outstanding_principal"])

    reference = f"purchase:{purchase.pk}"
    journal_post_many(
        account=account,
        now=now,
        entries=[
            (
                JournalEntryKind.PURCHASE,
                reference,
                [
                    debit(L.RECEIVABLE_PRINCIPAL, quote.amount),
                    credit(L.MERCHANT_PAYABLE, quote.amount),
                ],
            ),
            (
                JournalEntryKind.FEE,
                reference,
                [debit(L.RECEIVABLE_FEE, quote.total_fee), credit(L.FEE_INCOME, quote.total_fee)],
            ),
        ],
    )
    publish(
        event=EventType.PURCHASE_CONFIRMED,
        user=account.customer,
        context={"purchase_id": purchase.pk, "merchant": merchant.name, **quote.as_dict()},
        dedupe_key=f"purchase:{purchase.pk}:confirmed",
        now=now,
    )
    return purchase


def _fee_on_refunded(inst: Installment, take: Decimal) -> Decimal:
    """The fee on `take` more refunded principal: the step in the fee on everything refunded.

    Rounding the cumulative share (not each slice on its own) makes the slices add up to the
    whole fee once the whole principal is refunded, so no cent of fee is left owed.
    """
    before = quantize(inst.fee * inst.principal_refunded / inst.principal)
    after = quantize(inst.fee * (inst.principal_refunded + take) / inst.principal)
    return after - before


@transaction.atomic
def purchase_refund(
    *, purchase: Purchase, amount, idempotency_key: str, now: datetime, merchant_reference: str = ""
) -> Refund:
    """A merchant refund: remaining principal falls from the last installment backwards.

    Fees on the refunded principal are waived; money the customer already repaid beyond
    what remains owed comes back as credit balance.
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
    left, principal_reduced, fees_waived = amount, ZERO, ZERO
    for inst in installments:
        if left == 0:
            break
        take = min(left, inst.principal_due)
        if take <= 0:
            continue
        fee_waive = min(inst.fee_due, _fee_on_refunded(inst, take))
        inst.principal_refunded += take
        inst.fee_waived += fee_waive
        left -= take
        principal_reduced += take
        fees_waived += fee_waive
        if inst.principal_due == 0 and inst.fee_due == 0 and inst.penalty_due == 0:
            paid_anything = inst.principal_paid or inst.fee_paid or inst.penalty_paid
            inst.status = InstallmentStatus.PAID if paid_anything else InstallmentStatus.WAIVED
            inst.paid_at = inst.paid_at or now
    Installment.objects.bulk_update(
        installments, ["principal_refunded", "fee_waived", "status", "paid_at"]
    )
    credit_added = left  # principal the customer had already repaid

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
            credit(L.CUSTOMER_CREDIT, credit_added),
        ],
    )
    journal_post(
        kind=JournalEntryKind.FEE_WAIVER,
        account=account,
        reference=reference,
        now=now,
        lines=[debit(L.FEE_INCOME, fees_waived), credit(L.RECEIVABLE_FEE, fees_waived)],
    )
    publish(
        event=EventType.REFUND_RECEIVED,
        user=account.customer,
        context={
            "purchase_id": purchase.pk,
            "merchant": purchase.merchant.name,
            "amount": str(amount),
            "principal_reduced": str(principal_reduced),
            "fees_waived": str(fees_waived),
            "credit_balance_added": str(credit_added),
        },
        dedupe_key=f"refund:{refund.pk}",
        now=now,
    )
    return refund
