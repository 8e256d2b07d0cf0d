"""Reads for the customer API, the portal pages and the merchant API, query-count bounded.

Every read is scoped by its owner (a customer's account, a merchant): an id from the client
is only ever looked up inside that scope, so another customer's row is simply not found.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm_log.models import StateLog

from core.reasons import reason_texts
from credit.formulas import INSTALLMENT_OPEN, INSTALLMENT_OVERDUE, periods_not_begun
from credit.models import (
    FREEZE_REASONS_ENDED_BY_REPAYING,
    AccountStatus,
    CreditAccount,
    FreezeReason,
    GrantStatus,
    Installment,
    InstallmentPlan,
    LimitChange,
    Merchant,
    Purchase,
    Repayment,
    TemporaryLimitGrant,
)
from credit.money import ZERO, yuan
from credit.transitions import FREEZE_REASON_CODES, audit_reason_codes


def account_for_customer(*, user) -> CreditAccount | None:
    """The customer's credit account, or None if no line was opened for them."""
    if not user.is_authenticated:
        return None
    return CreditAccount.objects.filter(customer=user).first()


def merchants_active() -> QuerySet[Merchant]:
    return Merchant.objects.filter(is_active=True).order_by("pk")


# --- the account's status, in words ----------------------------------------------------------


@dataclass(frozen=True)
class StatusCause:
    """One active cause of the account's state: why, what ends it, where to contest it."""

    key: str  # "freeze:<reason>", "negative", "probation", "closed"
    reason_codes: list[str]
    reasons: list[str]
    remedy: str  # what restores spending (or the full limit), in the customer's language
    appeal_kind: str = ""  # a kind for {% appeal_link %} (its key), with its target
    appeal_target: object = None
    appeal_freeze_reason: str = ""  # a freeze cause: its own appeal lifts this reason only
    since: datetime | None = None


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
    causes: list[StatusCause] = field(default_factory=list)


_APPEAL_REMEDY = gettext_lazy(
    "If you think this is a mistake, appeal: a person reviews it and lifts this cause."
)
# What ends each freeze reason. A reason without an entry (one added later) gets the appeal.
FREEZE_REMEDIES = {
    FreezeReason.OVERDUE: gettext_lazy(
        "Repay the overdue installments: this cause is lifted once nothing is overdue. If "
        "you need more time to repay, appeal the overdue installment."
    ),
    FreezeReason.COMPLIANCE: gettext_lazy(
        "Call customer service 400-000-0000: they tell you what the requirement needs."
    ),
}


def _freeze_cause(account: CreditAccount, reason: str) -> StatusCause:
    """A freeze reason with its own appeal of that reason only; a reason the customer ends by
    repaying links to the "more time to repay" appeal of the oldest overdue installment."""
    codes = [FREEZE_REASON_CODES.get(reason, reason)]
    appeal = {"appeal_kind": "freeze", "appeal_target": account.pk, "appeal_freeze_reason": reason}
    if reason in FREEZE_REASONS_ENDED_BY_REPAYING:
        overdue = (
            Installment.objects.filter(INSTALLMENT_OVERDUE, account=account)
            .order_by("due_date", "pk")
            .first()
        )
        appeal = {"appeal_kind": "installment", "appeal_target": overdue} if overdue else {}
    return StatusCause(
        key=f"freeze:{reason}",
        reason_codes=codes,
        reasons=reason_texts(codes),
        remedy=str(FREEZE_REMEDIES.get(reason, _APPEAL_REMEDY)),
        **appeal,
    )


def _negative_cause(account: CreditAccount) -> StatusCause:
    """Owing more than the limit: caused by the latest change that lowered the usable limit."""
    cut = (
        LimitChange.objects.filter(
            account=account, new_effective_limit__lt=F("old_effective_limit")
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    codes = list(cut.reason_codes) if cut is not None else list(account.status_reason_codes)
    return StatusCause(
        key="negative",
        reason_codes=codes,
        reasons=reason_texts(codes),
        remedy=_(
            "Repay %(over)s of principal to bring your available credit back to zero, or "
            "appeal the limit cut."
        )
        % {"over": yuan(-account.available)},
        appeal_kind="limit_change" if cut is not None else "restoration",
        appeal_target=cut if cut is not None else account.pk,
        since=cut.created_at if cut is not None else account.status_changed_at,
    )


def account_causes(account: CreditAccount) -> list[StatusCause]:
    """The set of active causes of the account's state, each on its own.

    Derived from what the services keep exact — the freeze reasons, the numbers, the limit
    changes — never from `status_reason_codes` alone, which names only the latest step
    (clearing one freeze reason, or a staff unfreeze, must not hide the others).
    """
    status = account.status
    if status == AccountStatus.CLOSED:
        codes = list(account.status_reason_codes)
        return [
            StatusCause(
                key="closed",
                reason_codes=codes,
                reasons=reason_texts(codes),
                remedy=_("A closed credit line is not reopened; a new one can be opened."),
                since=account.closed_at,
            )
        ]
    causes = []
    if status == AccountStatus.FROZEN:
        causes = [_freeze_cause(account, reason) for reason in account.freeze_reasons]
    if status in (AccountStatus.FROZEN, AccountStatus.NEGATIVE) and account.available < 0:
        causes.append(_negative_cause(account))
    if status == AccountStatus.RESTORED and account.probation_limit_cap is not None:
        codes = list(account.status_reason_codes)
        causes.append(
            StatusCause(
                key="probation",
                reason_codes=codes,
                reasons=reason_texts(codes),
                remedy=_(
                    "Repay on time: your limit comes back in steps, the whole of it after "
                    "%(days)s days without anything overdue."
                )
                % {"days": settings.SERVICING_PROBATION_FULL_LIMIT_DAYS},
                appeal_kind="restoration",
                appeal_target=account.pk,
                since=account.restored_at,
            )
        )
    return causes


def _cause_reasons(causes: list[StatusCause], fallback: list[str]) -> list[str]:
    reasons = list(dict.fromkeys(text for cause in causes for text in cause.reasons))
    return reasons or fallback


def available_in_words(account: CreditAccount) -> str:
    """Available credit explained, so a negative number is never left unexplained.

    Only a line that may buy is told it can spend; a frozen or closed one is told why not.
    """
    available = account.available
    if account.status == AccountStatus.CLOSED:
        return _("This credit line is closed: it cannot be used for purchases.")
    if account.status == AccountStatus.FROZEN:
        return _(
            "Purchases are paused while your credit line is frozen. Each cause above says "
            "what lifts it; purchases resume once none is left."
        )
    if available >= 0 and account.can_purchase:
        return _("You can spend up to %(available)s more.") % {"available": yuan(available)}
    return _(
        "You owe %(owed)s of principal, which is %(over)s more than your current limit of "
        "%(limit)s. That is why your available credit shows −%(over)s. Nothing is charged "
        "for this; purchases resume once repayments bring it back to zero or above."
    ) % {
        "owed": yuan(account.outstanding_principal),
        "over": yuan(max(-available, ZERO)),
        "limit": yuan(account.effective_limit),
    }


def account_status_explanation(account: CreditAccount) -> StatusExplanation:
    """The banner: what state the line is in, each cause, and what the customer can do."""
    status = account.status
    causes = account_causes(account)
    reasons = _cause_reasons(causes, reason_texts(account.status_reason_codes))
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
                # No general appeal line: each cause carries its own appeal link.
                _("Call customer service 400-000-0000 if you need help."),
            ],
            causes=causes,
        )
    if status == AccountStatus.NEGATIVE:
        return StatusExplanation(
            status=status,
            label=label,
            tone="warn",
            headline=_("You owe more than your current limit, so purchases are paused."),
            reasons=reasons,
            actions=[
                _(
                    "Repaying %(over)s of principal brings your available credit back to zero; "
                    "repayments go to penalties and fees first, then to principal."
                )
                % {"over": yuan(max(-account.available, ZERO))},
                _("Your installments stay on their usual dates; nothing becomes due early."),
                _("If you think the limit cut is a mistake, you can appeal."),
            ],
            causes=causes,
        )
    if status == AccountStatus.RESTORED:
        actions = [_("You can make purchases again, up to your available credit.")]
        if account.probation_limit_cap is not None:
            actions.append(
                _(
                    "While on probation your usable limit is capped at %(cap)s; it comes back "
                    "step by step as you repay on time."
                )
                % {"cap": yuan(account.probation_limit_cap)}
            )
        return StatusExplanation(
            status=status,
            label=label,
            tone="info",
            headline=_("Your credit line is restored and on probation."),
            reasons=reasons,
            actions=actions,
            can_purchase=True,
            causes=causes,
        )
    return StatusExplanation(
        status=status,
        label=label,
        tone="info",
        headline=_("This credit line is closed."),
        reasons=reasons,
        actions=[_("Call customer service 400-000-0000 to open a new credit line.")],
        can_repay=False,
        causes=causes,
    )


# --- history: limit changes and status events, in time order ---------------------------------

# Customer words for each account transition (credit.transitions); a transition added later
# reads "Status changed" until it gets its own words here.
TRANSITION_LABELS = {
    "freeze": gettext_lazy("Frozen"),
    "unfreeze": gettext_lazy("Unfrozen"),
    "go_negative": gettext_lazy("Owing more than the limit"),
    "recover": gettext_lazy("Back to zero or above"),
    "graduate": gettext_lazy("Probation completed"),
    "reverse": gettext_lazy("Our mistake put right"),
    "close": gettext_lazy("Closed"),
}
HISTORY_MAX = 500


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str  # "limit" (a LimitChange) or "status" (a state change of the account)
    label: str
    reason_codes: list[str]
    reasons: list[str]
    change: LimitChange | None = None
    old_status: str = ""
    new_status: str = ""

    @property
    def old_status_label(self) -> str:
        return str(AccountStatus(self.old_status).label) if self.old_status else ""

    @property
    def new_status_label(self) -> str:
        return str(AccountStatus(self.new_status).label) if self.new_status else ""


def _status_entries(account: CreditAccount, limit: int) -> list[HistoryEntry]:
    logs = (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(CreditAccount), object_id=account.pk
        )
        .exclude(source_state=F("state"))
        .order_by("-timestamp", "-pk")
        .values("timestamp", "transition", "source_state", "state", "description")[:limit]
    )
    entries = []
    for log in logs:
        codes = audit_reason_codes(log["description"])
        entries.append(
            HistoryEntry(
                at=log["timestamp"],
                kind="status",
                label=str(TRANSITION_LABELS.get(log["transition"], _("Status changed"))),
                reason_codes=codes,
                reasons=reason_texts(codes),
                old_status=log["source_state"] or "",
                new_status=log["state"],
            )
        )
    return entries


def account_history(*, account: CreditAccount, limit: int = HISTORY_MAX) -> list[HistoryEntry]:
    """Limit changes and status events (freeze, unfreeze, below zero, back, probation,
    close, reversals), newest first. Two queries."""
    changes = [
        HistoryEntry(
            at=change.created_at,
            kind="limit",
            label=change.get_kind_display(),
            reason_codes=list(change.reason_codes),
            reasons=change.reasons,
            change=change,
        )
        for change in limit_changes_for_account(account=account)[:limit]
    ]
    entries = changes + _status_entries(account, limit)
    # A limit change and the status step it caused share an instant: the change first.
    entries.sort(key=lambda entry: (entry.at, entry.kind == "status"), reverse=True)
    return entries[:limit]


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
