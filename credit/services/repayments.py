"""Repayments: the waterfall, early payoff of a plan, and the credit balance."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.events import EventType, publish
from core.reasons import ReasonCode
from credit.formulas import INSTALLMENT_OPEN
from credit.models import (
    AccountStatus,
    AllocationComponent,
    CreditAccount,
    Installment,
    InstallmentPlan,
    InstallmentStatus,
    JournalEntryKind,
    PlanStatus,
    Repayment,
    RepaymentAllocation,
    RepaymentChannel,
)
from credit.models import LedgerAccount as L
from credit.money import ZERO
from credit.services.amounts import amount_validate
from credit.services.errors import AccountClosed, IdempotencyKeyConflict, NothingToRepay
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock, account_status_settle

# Within an installment: penalty, then fee, then principal.
_WATERFALL = (
    (AllocationComponent.PENALTY, "penalty_due", "penalty_paid", L.RECEIVABLE_PENALTY),
    (AllocationComponent.FEE, "fee_due", "fee_paid", L.RECEIVABLE_FEE),
    (AllocationComponent.PRINCIPAL, "principal_due", "principal_paid", L.RECEIVABLE_PRINCIPAL),
)


def _open_installments(
    account: CreditAccount, plan: InstallmentPlan | None = None
) -> list[Installment]:
    """Oldest due first; locked, since the waterfall writes them."""
    query = Installment.objects.select_for_update().filter(INSTALLMENT_OPEN, account=account)
    if plan is not None:
        query = query.filter(plan=plan)
    return list(query.order_by("due_date", "plan_id", "sequence"))


def _allocate(
    *, repayment: Repayment, installments: list[Installment], amount: Decimal, now: datetime
) -> tuple[list[RepaymentAllocation], dict[str, Decimal], Decimal]:
    """Run the waterfall; returns the allocations, totals per ledger account and the leftover."""
    left = amount
    allocations: list[RepaymentAllocation] = []
    per_ledger = {ledger: ZERO for *_, ledger in _WATERFALL}
    touched: list[Installment] = []
    for inst in installments:
        if left == 0:
            break
        for component, due_attr, paid_attr, ledger in _WATERFALL:
            take = min(left, getattr(inst, due_attr))
            if take <= 0:
                continue
            setattr(inst, paid_attr, getattr(inst, paid_attr) + take)
            allocations.append(
                RepaymentAllocation(
                    repayment=repayment, installment=inst, component=component, amount=take
                )
            )
            per_ledger[ledger] += take
            left -= take
        if inst.amount_due == 0:
            inst.status = InstallmentStatus.PAID
            inst.paid_at = now
        touched.append(inst)
    Installment.objects.bulk_update(
        touched, ["penalty_paid", "fee_paid", "principal_paid", "status", "paid_at"]
    )
    if left > 0:
        allocations.append(
            RepaymentAllocation(
                repayment=repayment, component=AllocationComponent.CREDIT_BALANCE, amount=left
            )
        )
    RepaymentAllocation.objects.bulk_create(allocations)
    return allocations, per_ledger, left


def _close_finished_plans(plan_ids: set[int], now: datetime) -> None:
    still_open = set(
        Installment.objects.filter(INSTALLMENT_OPEN, plan_id__in=plan_ids).values_list(
            "plan_id", flat=True
        )
    )
    InstallmentPlan.objects.filter(pk__in=plan_ids - still_open, status=PlanStatus.ACTIVE).update(
        status=PlanStatus.PAID_OFF, closed_at=now
    )


def _existing_repayment(
    account: CreditAccount, idempotency_key: str, amount: Decimal
) -> Repayment | None:
    existing = Repayment.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if existing is not None and existing.amount != amount:
        raise IdempotencyKeyConflict()
    return existing


def _book_repayment(
    *,
    account: CreditAccount,
    amount: Decimal,
    installments: list[Installment],
    idempotency_key: str,
    channel: str,
    now: datetime,
    actor: User | None,
    payoff_plan: InstallmentPlan | None = None,
    fees_waived: Decimal = ZERO,
) -> Repayment:
    from_balance = channel == RepaymentChannel.CREDIT_BALANCE
    repayment = Repayment.objects.create(
        account=account,
        amount=amount,
        channel=channel,
        payoff_plan=payoff_plan,
        fees_waived=fees_waived,
        idempotency_key=idempotency_key,
        received_at=now,
        recorded_by=actor,
    )
    _allocations, per_ledger, leftover = _allocate(
        repayment=repayment, installments=installments, amount=amount, now=now
    )
    _close_finished_plans({inst.plan_id for inst in installments}, now)
    account.outstanding_principal -= per_ledger[L.RECEIVABLE_PRINCIPAL]
    account.credit_balance += leftover - (amount if from_balance else ZERO)
    account_status_settle(
        account=account, now=now, by=actor, reason_codes=[ReasonCode.REPAID_ABOVE_ZERO]
    )
    account.save()
    journal_post(
        kind=JournalEntryKind.REPAYMENT,
        account=account,
        reference=f"repayment:{repayment.pk}",
        now=now,
        lines=[
            debit(L.CUSTOMER_CREDIT if from_balance else L.CASH, amount),
            *(credit(ledger, total) for ledger, total in per_ledger.items()),
            credit(L.CUSTOMER_CREDIT, leftover),
        ],
    )
    publish(
        event=EventType.REPAYMENT_RECEIVED,
        user=account.customer,
        context={
            "repayment_id": repayment.pk,
            "amount": str(amount),
            "credit_balance_added": str(leftover),
            "from_credit_balance": from_balance,
            "outstanding_principal": str(account.outstanding_principal),
            "available": str(account.available),
        },
        dedupe_key=f"repayment:{repayment.pk}",
        now=now,
    )
    return repayment


def credit_balance_apply(*, account: CreditAccount, now: datetime, source: str) -> Repayment | None:
    """Pay what the customer owes from their credit balance, oldest due first, as a repayment
    of channel CREDIT_BALANCE (the notice of an overpayment promises it pays the next bill).

    Called wherever a balance and something owed meet: a refund that returns money while other
    plans are open, a purchase on an account holding a balance. `account` must be locked;
    `source` (e.g. "refund:12") makes the repayment's idempotency key.
    """
    if account.credit_balance <= 0:
        return None
    installments = _open_installments(account)
    amount = min(account.credit_balance, sum((inst.amount_due for inst in installments), ZERO))
    if amount <= 0:
        return None
    return _book_repayment(
        account=account,
        amount=amount,
        installments=installments,
        idempotency_key=f"credit-balance:{source}",
        channel=RepaymentChannel.CREDIT_BALANCE,
        now=now,
        actor=None,
    )


@transaction.atomic
def repayment_apply(
    *,
    account: CreditAccount,
    amount,
    idempotency_key: str,
    now: datetime,
    channel: str = RepaymentChannel.APP,
    actor: User | None = None,
) -> Repayment:
    """Apply a repayment: oldest due first; penalty → fee → principal; the rest is credit balance."""
    amount = amount_validate(amount)
    account = account_lock(account)
    existing = _existing_repayment(account, idempotency_key, amount)
    if existing is not None:
        return existing
    if account.status == AccountStatus.CLOSED:
        # A closed line owes nothing; money sent to it would sit as a balance it cannot hold.
        raise AccountClosed()
    return _book_repayment(
        account=account,
        amount=amount,
        installments=_open_installments(account),
        idempotency_key=idempotency_key,
        channel=channel,
        now=now,
        actor=actor,
    )


@dataclass(frozen=True)
class PayoffQuote:
    plan_id: int
    amount: Decimal
    fees_waived: Decimal


def _future_installments(installments: list[Installment], today) -> list[Installment]:
    """Installments after the next one due: their periods have not started, so no fee is owed."""
    upcoming = [inst for inst in installments if inst.due_date >= today]
    return upcoming[1:]


def plan_payoff_quote(*, plan: InstallmentPlan, now: datetime) -> PayoffQuote:
    installments = sorted(
        (inst for inst in plan.installments.all() if inst.is_open),
        key=lambda inst: (inst.due_date, inst.sequence),
    )
    waived = ZERO
    if plan.fee_schedule.early_payoff_waives_future_fees:
        waived = sum(
            (inst.fee_due for inst in _future_installments(installments, timezone.localdate(now))),
            ZERO,
        )
    owed = sum((inst.amount_due for inst in installments), ZERO)
    return PayoffQuote(plan_id=plan.pk, amount=owed - waived, fees_waived=waived)


@transaction.atomic
def plan_payoff(
    *,
    plan: InstallmentPlan,
    idempotency_key: str,
    now: datetime,
    channel: str = RepaymentChannel.APP,
    actor: User | None = None,
) -> Repayment:
    """Repay a whole plan early; future-period fees are waived (if the schedule says so)."""
    account = account_lock(plan.account_id)
    existing = Repayment.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.payoff_plan_id != plan.pk:
            raise IdempotencyKeyConflict()
        return existing
    installments = _open_installments(account, plan)
    if not installments:
        raise NothingToRepay()
    waived = ZERO
    if plan.fee_schedule.early_payoff_waives_future_fees:
        for inst in _future_installments(installments, timezone.localdate(now)):
            waived += inst.fee_due
            inst.fee_waived += inst.fee_due
        Installment.objects.bulk_update(installments, ["fee_waived"])
        journal_post(
            kind=JournalEntryKind.FEE_WAIVER,
            account=account,
            reference=f"payoff:{plan.pk}",
            now=now,
            lines=[debit(L.FEE_INCOME, waived), credit(L.RECEIVABLE_FEE, waived)],
        )
    amount = sum((inst.amount_due for inst in installments), ZERO)
    repayment = _book_repayment(
        account=account,
        amount=amount,
        installments=installments,
        idempotency_key=idempotency_key,
        channel=channel,
        now=now,
        actor=actor,
        payoff_plan=plan,
        fees_waived=waived,
    )
    publish(
        event=EventType.PLAN_PAID_OFF,
        user=account.customer,
        context={"plan_id": plan.pk, "amount": str(amount), "fees_waived": str(waived)},
        dedupe_key=f"payoff:{repayment.pk}",
        now=now,
    )
    return repayment
