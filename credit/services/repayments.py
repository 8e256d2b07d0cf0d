"""Repayments: the waterfall, early payoff of a plan, and the credit balance."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.events import EventType, publish
from core.reasons import ReasonCode
from credit.formulas import INSTALLMENT_OPEN, INSTALLMENT_OVERDUE, periods_not_begun
from credit.models import (
    AccountStatus,
    AllocationComponent,
    CreditAccount,
    FreezeReason,
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
from credit.services.errors import (
    AccountClosed,
    IdempotencyKeyConflict,
    NothingToRepay,
    RepaymentExceedsOwed,
)
from credit.services.idempotency import CREDIT_BALANCE_PREFIX, idempotency_key_refuse_internal
from credit.services.ledger import credit, debit, journal_post
from credit.services.lifecycle import account_lock, account_status_settle, account_unfreeze

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
    query = (
        Installment.objects.select_for_update(of=("self",))
        .select_related("plan__fee_schedule")
        .filter(INSTALLMENT_OPEN, account=account)
    )
    if plan is not None:
        query = query.filter(plan=plan)
    return list(query.order_by("due_date", "plan_id", "sequence"))


def _periods_not_started(installments: list[Installment], today: date) -> set[int]:
    """`credit.formulas.periods_not_begun` for these installments (one query)."""
    dated = list(
        Installment.objects.filter(plan_id__in={inst.plan_id for inst in installments})
        .order_by()
        .values_list("pk", "plan_id", "due_date")
    )
    return periods_not_begun(dated, today)


def _owed_now(installments: list[Installment], now: datetime) -> Decimal:
    """What the waterfall takes to clear these installments: everything due, except the fees
    of periods that have not started (prepaying their principal waives them)."""
    not_started = _periods_not_started(installments, timezone.localdate(now))
    return sum(
        (
            inst.principal_due if inst.pk in not_started else inst.amount_due
            for inst in installments
        ),
        ZERO,
    )


def _allocate(
    *,
    repayment: Repayment,
    installments: list[Installment],
    amount: Decimal,
    now: datetime,
    future_fees: bool = False,
) -> tuple[list[RepaymentAllocation], dict[str, Decimal], Decimal, Decimal]:
    """Run the waterfall; returns the allocations, totals per ledger account, the leftover and
    the fees waived.

    Money never pays a fee for a period that has not started: an installment after the next
    one due of its plan takes principal only (a prepayment), and once its principal is fully
    prepaid its fee is waived, as an early payoff waives it (if the plan's schedule waives
    future-period fees; else the fee stays owed on its due date). A plan payoff, which has
    already waived what its schedule waives, passes `future_fees=True` and pays the rest.
    """
    left = amount
    allocations: list[RepaymentAllocation] = []
    per_ledger = {ledger: ZERO for *_, ledger in _WATERFALL}
    touched: list[Installment] = []
    waived = ZERO
    not_started = (
        set() if future_fees else _periods_not_started(installments, timezone.localdate(now))
    )
    for inst in installments:
        if left == 0:
            break
        prepaid = inst.pk in not_started
        for component, due_attr, paid_attr, ledger in _WATERFALL:
            if prepaid and component != AllocationComponent.PRINCIPAL:
                continue
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
        if (
            prepaid
            and inst.principal_due == 0
            and inst.plan.fee_schedule.early_payoff_waives_future_fees
        ):
            waived += inst.fee_due
            inst.fee_waived += inst.fee_due
        if inst.amount_due == 0:
            inst.status = InstallmentStatus.PAID
            inst.paid_at = now
        touched.append(inst)
    Installment.objects.bulk_update(
        touched, ["penalty_paid", "fee_paid", "fee_waived", "principal_paid", "status", "paid_at"]
    )
    if left > 0:
        allocations.append(
            RepaymentAllocation(
                repayment=repayment, component=AllocationComponent.CREDIT_BALANCE, amount=left
            )
        )
    RepaymentAllocation.objects.bulk_create(allocations)
    return allocations, per_ledger, left, waived


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
    _allocations, per_ledger, leftover, prepaid_waived = _allocate(
        repayment=repayment,
        installments=installments,
        amount=amount,
        now=now,
        future_fees=payoff_plan is not None,
    )
    if prepaid_waived > 0:
        repayment.fees_waived += prepaid_waived
        repayment.save(update_fields=["fees_waived"])
        journal_post(
            kind=JournalEntryKind.FEE_WAIVER,
            account=account,
            reference=f"prepayment:{repayment.pk}",
            now=now,
            lines=[debit(L.FEE_INCOME, prepaid_waived), credit(L.RECEIVABLE_FEE, prepaid_waived)],
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
    _overdue_cure(account=account, now=now)
    return repayment


def _overdue_cure(*, account: CreditAccount, now: datetime) -> None:
    """Nothing overdue any more → the OVERDUE freeze reason goes now, in the repayment's
    transaction (the same rule as the close's overdue cure: no OVERDUE installment left);
    another reason keeps the account frozen. `account` is not used after this."""
    if account.status != AccountStatus.FROZEN or FreezeReason.OVERDUE not in account.freeze_reasons:
        return
    if Installment.objects.filter(INSTALLMENT_OVERDUE, account=account).exists():
        return
    account_unfreeze(
        account=account,
        now=now,
        reason_codes=[ReasonCode.OVERDUE_CURED],
        only_reason=FreezeReason.OVERDUE,
    )


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
    amount = min(account.credit_balance, _owed_now(installments, now))
    if amount <= 0:
        return None
    return _book_repayment(
        account=account,
        amount=amount,
        installments=installments,
        idempotency_key=f"{CREDIT_BALANCE_PREFIX}{source}",
        channel=RepaymentChannel.CREDIT_BALANCE,
        now=now,
        actor=None,
    )


def repayment_maximum(
    *, account: CreditAccount, installments: list[Installment], now: datetime
) -> Decimal:
    """The most a repayment may be now: what the waterfall takes to clear these open
    installments (fees of periods not begun excepted), plus the prepayment allowance, less the
    credit balance already held; never below zero."""
    allowance = Decimal(settings.CREDIT_PREPAYMENT_ALLOWANCE)
    return max(ZERO, _owed_now(installments, now) + allowance - account.credit_balance)


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
    """Apply a repayment: oldest due first; penalty → fee → principal; the rest is credit balance.

    At most what is owed now plus `CREDIT_PREPAYMENT_ALLOWANCE` (less any credit balance
    already held): more is refused with the maximum, so no balance can grow without bound.
    """
    amount = amount_validate(amount)
    idempotency_key_refuse_internal(idempotency_key, internal=(CREDIT_BALANCE_PREFIX,))
    account = account_lock(account)
    existing = _existing_repayment(account, idempotency_key, amount)
    if existing is not None:
        return existing
    if account.status == AccountStatus.CLOSED:
        # A closed line owes nothing; money sent to it would sit as a balance it cannot hold.
        raise AccountClosed()
    installments = _open_installments(account)
    maximum = repayment_maximum(account=account, installments=installments, now=now)
    if amount > maximum:
        raise RepaymentExceedsOwed(maximum=maximum)
    return _book_repayment(
        account=account,
        amount=amount,
        installments=installments,
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


def plan_payoff_quote(*, plan: InstallmentPlan, now: datetime) -> PayoffQuote:
    every = list(plan.installments.all())
    installments = [inst for inst in every if inst.is_open]
    waived = ZERO
    if plan.fee_schedule.early_payoff_waives_future_fees:
        not_started = periods_not_begun(
            [(inst.pk, inst.plan_id, inst.due_date) for inst in every], timezone.localdate(now)
        )
        waived = sum((inst.fee_due for inst in installments if inst.pk in not_started), ZERO)
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
    idempotency_key_refuse_internal(idempotency_key, internal=(CREDIT_BALANCE_PREFIX,))
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
        not_started = _periods_not_started(installments, timezone.localdate(now))
        for inst in installments:
            if inst.pk in not_started:
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
