"""Reads for the customer API, the portal pages and the merchant API, query-count bounded.

Every read is scoped by its owner (a customer's account, a merchant): an id from the client
is only ever looked up inside that scope, so another customer's row is simply not found.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from core.reasons import reason_texts
from credit.formulas import INSTALLMENT_OPEN, periods_not_begun
from credit.models import (
    AccountStatus,
    CreditAccount,
    GrantStatus,
    Installment,
    InstallmentPlan,
    LimitChange,
    Merchant,
    Purchase,
    Repayment,
    TemporaryLimitGrant,
)
from credit.money import ZERO


def account_for_customer(*, user) -> CreditAccount | None:
    """The customer's credit account, or None if no line was opened for them."""
    if not user.is_authenticated:
        return None
    return CreditAccount.objects.filter(customer=user).first()


def merchants_active() -> QuerySet[Merchant]:
    return Merchant.objects.filter(is_active=True).order_by("pk")


# --- the account's status, in words ----------------------------------------------------------


@dataclass(frozen=True)
class StatusExplanation:
    status: str
    label: str
    tone: str  # ok / info / warn / bad, for the banner's colour
    headline: str
    reasons: list[str]
    actions: list[str] = field(default_factory=list)
    can_purchase: bool = False
    can_repay: bool = True


def available_in_words(account: CreditAccount) -> str:
    """Available credit explained, so a negative number is never left unexplained."""
    available = account.available
    if available >= 0:
        return _("You can spend up to ¥%(available)s more.") % {"available": available}
    return _(
        "You owe ¥%(owed)s of principal, which is ¥%(over)s more than your current limit of "
        "¥%(limit)s. That is why your available credit shows −¥%(over)s. Nothing is charged "
        "for this; purchases resume once repayments bring it back to zero or above."
    ) % {
        "owed": account.outstanding_principal,
        "over": -available,
        "limit": account.effective_limit,
    }


def account_status_explanation(account: CreditAccount) -> StatusExplanation:
    """The banner: what state the line is in, why, and what the customer can do about it."""
    status = account.status
    reasons = reason_texts(account.status_reason_codes)
    label = str(AccountStatus(status).label)
    if status == AccountStatus.ACTIVE:
        return StatusExplanation(
            status=status,
            label=label,
            tone="ok",
            headline=_("Your credit line is in good standing."),
            reasons=[],
            actions=[_("Pay with your credit line and split purchases into installments.")],
            can_purchase=True,
        )
    if status == AccountStatus.FROZEN:
        return StatusExplanation(
            status=status,
            label=label,
            tone="bad",
            headline=_("Your credit line is frozen: purchases are paused."),
            reasons=reasons,
            actions=[
                _("You can still repay, and your installments stay due on their dates."),
                _("If you think this is a mistake, you can appeal and a person will review it."),
                _("Call customer service 400-000-0000 if you need help."),
            ],
        )
    if status == AccountStatus.NEGATIVE:
        over = -account.available if account.available < 0 else ZERO
        return StatusExplanation(
            status=status,
            label=label,
            tone="warn",
            headline=_("You owe more than your current limit, so purchases are paused."),
            reasons=reasons,
            actions=[
                _(
                    "Repaying ¥%(over)s of principal brings your available credit back to zero; "
                    "repayments go to penalties and fees first, then to principal."
                )
                % {"over": over},
                _("Your installments stay on their usual dates; nothing becomes due early."),
                _("If you think the limit cut is a mistake, you can appeal."),
            ],
        )
    if status == AccountStatus.RESTORED:
        actions = [_("You can make purchases again, up to your available credit.")]
        if account.probation_limit_cap is not None:
            actions.append(
                _(
                    "While on probation your usable limit is capped at ¥%(cap)s; it comes back "
                    "step by step as you repay on time."
                )
                % {"cap": account.probation_limit_cap}
            )
        return StatusExplanation(
            status=status,
            label=label,
            tone="info",
            headline=_("Your credit line is restored and on probation."),
            reasons=reasons,
            actions=actions,
            can_purchase=True,
        )
    return StatusExplanation(
        status=status,
        label=label,
        tone="info",
        headline=_("This credit line is closed."),
        reasons=reasons,
        actions=[_("Call customer service 400-000-0000 to open a new credit line.")],
        can_repay=False,
    )


# --- lists and details, always inside the owner's scope --------------------------------------


def installments_upcoming(*, account: CreditAccount, limit: int = 12) -> list[Installment]:
    return list(
        Installment.objects.filter(INSTALLMENT_OPEN, account=account)
        .select_related("plan__purchase__merchant")
        .order_by("due_date", "plan_id", "sequence")[:limit]
    )


def installments_for_account(*, account: CreditAccount, status: str | None = None):
    query = Installment.objects.filter(account=account).select_related("plan")
    if status:
        query = query.filter(status=status)
    return query.order_by("due_date", "plan_id", "sequence")


def amount_due_by(*, account: CreditAccount, on_or_before) -> Decimal:
    """What is due (principal, fee, penalty) on open installments due by that date."""
    return sum(
        (
            inst.amount_due
            for inst in Installment.objects.filter(
                INSTALLMENT_OPEN, account=account, due_date__lte=on_or_before
            )
        ),
        ZERO,
    )


def amount_owed_total(*, account: CreditAccount, today: date) -> Decimal:
    """What clears every open installment today: all that is due, less the fees of periods
    not begun (a repayment takes their principal only and waives their fee)."""
    every = list(Installment.objects.filter(account=account))
    not_begun = periods_not_begun([(i.pk, i.plan_id, i.due_date) for i in every], today)
    return sum(
        (
            inst.principal_due if inst.pk in not_begun else inst.amount_due
            for inst in every
            if inst.is_open
        ),
        ZERO,
    )


def limit_changes_for_account(*, account: CreditAccount) -> QuerySet[LimitChange]:
    return LimitChange.objects.filter(account=account).order_by("-created_at", "-pk")


def temporary_grants_current(*, account: CreditAccount, now: datetime):
    return list(
        TemporaryLimitGrant.objects.filter(
            account=account,
            status__in=[GrantStatus.ACTIVE, GrantStatus.SCHEDULED],
            ends_at__gt=now,
        ).order_by("ends_at")
    )


def purchases_for_account(*, account: CreditAccount) -> QuerySet[Purchase]:
    return (
        Purchase.objects.filter(account=account)
        .select_related("merchant", "plan")
        .order_by("-created_at", "-pk")
    )


def purchase_for_account(*, account: CreditAccount, purchase_id) -> Purchase:
    return (
        purchases_for_account(account=account)
        .prefetch_related(_installments_ordered("plan__installments"))
        .get(pk=purchase_id)
    )


def _installments_ordered(lookup: str) -> Prefetch:
    return Prefetch(lookup, queryset=Installment.objects.order_by("sequence"))


def plans_for_account(*, account: CreditAccount) -> QuerySet[InstallmentPlan]:
    return (
        InstallmentPlan.objects.filter(account=account)
        .select_related("purchase__merchant")
        .order_by("-created_at", "-pk")
    )


def plan_for_account(*, account: CreditAccount, plan_id) -> InstallmentPlan:
    """One plan with its installments and schedule; DoesNotExist outside the account."""
    return (
        plans_for_account(account=account)
        .select_related("fee_schedule")
        .prefetch_related(_installments_ordered("installments"))
        .get(pk=plan_id)
    )


def repayments_for_account(*, account: CreditAccount) -> QuerySet[Repayment]:
    return Repayment.objects.filter(account=account).order_by("-received_at", "-pk")


def repayment_for_account(*, account: CreditAccount, repayment_id) -> Repayment:
    return (
        repayments_for_account(account=account)
        .prefetch_related("allocations__installment__plan__purchase__merchant")
        .get(pk=repayment_id)
    )


def purchases_for_merchant(*, merchant: Merchant) -> QuerySet[Purchase]:
    return Purchase.objects.filter(merchant=merchant).select_related("plan").order_by("-pk")


def purchase_for_merchant(*, merchant: Merchant, purchase_id) -> Purchase:
    return purchases_for_merchant(merchant=merchant).prefetch_related("refunds").get(pk=purchase_id)
