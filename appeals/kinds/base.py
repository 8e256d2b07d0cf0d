"""What every appeal kind is made of, and the usable-limit measure three of them share.

A kind says which of the appellant's objects it accepts (its model, the way from the object to
its credit account, when the object may be appealed now), what an approval does through the
owning services, and how it is named to customers and staff. The registry in
`appeals.kinds` lists the kinds; nothing outside the kind modules compares keys.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, AppealType
from core.reasons import ReasonCode
from credit.formulas import effective_limit
from credit.models import AccountStatus, CreditAccount, LimitChangeKind
from credit.money import ZERO, yuan
from credit.services import limit_set


class AppealKindKey(StrEnum):
    """The key of each kind: in links (`?kind=…`), the API's `kind` and `{% appeal_link %}`."""

    LIMIT_CHANGE = "limit_change"
    PENDING_DECREASE = "pending_decrease"
    FREEZE = "freeze"
    RESTORATION = "restoration"
    INSTALLMENT = "installment"
    ACCELERATION = "acceleration"


class DecisionOutcome(StrEnum):
    """What the customer's APPEAL_DECIDED notice calls an approval (its `outcome`)."""

    APPROVED = "APPROVED"
    # Approved, but less comes back than the decision appealed took (a restoration to an
    # amount below the limit before the incident).
    PARTIAL = "PARTIAL"


@dataclass
class EffectPlan:
    # Limit the approval gives back (what the record shows and maker-checker weighs).
    restored_amount: Decimal
    apply: Callable[[], str]  # returns a reference to the row it wrote ("app.model:pk")
    outcome: str = DecisionOutcome.APPROVED
    # What the approval does, for the customer's notice (JSON values; the notice adds the
    # account's figures after the effect): see notifications.catalogue's APPEAL_DECIDED.
    notice: dict[str, Any] = field(default_factory=dict)


def row_reference(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def limit_give_back(*, account: CreditAccount, base_limit: Decimal, actor, now, note) -> str:
    """Set the base limit as an approved appeal does; the reference of the change written."""
    change = limit_set(
        account=account,
        new_base_limit=base_limit,
        kind=LimitChangeKind.APPEAL,
        reason_codes=[ReasonCode.APPEAL_APPROVED],
        now=now,
        actor=actor,
        note=note,
    )
    return row_reference(change)


class AppealKind:
    """One kind of decision a customer can appeal. Subclass it in a module of `appeals.kinds`."""

    key: ClassVar[str]
    appeal_type: ClassVar[AppealType]
    model: ClassVar[type[models.Model]]
    label: ClassVar[str]  # gettext_lazy: what the customer appeals, in their language
    # Field from the target to its CreditAccount ("" when the target is the account itself).
    account_field: ClassVar[str] = "account"
    # The kind an appeal type means when a link names the type only (one per type).
    default_for_type: ClassVar[bool] = False
    # Query parameters other apps' notices already use for this kind (`?pending=<id>`).
    query_aliases: ClassVar[tuple[str, ...]] = ()
    # Inputs the reviewer may give with an approval (admin decide form, `appeal_decide`).
    decision_fields: ClassVar[dict[str, forms.Field]] = {}
    # What an approval does, as the customer's notice names it (its `effect` variable).
    effect: ClassVar[str] = ""

    def ready(self) -> None:
        """Hook into the owning app at start-up (called from the appeals AppConfig.ready)."""

    def refusal(self, target, now: datetime) -> str | None:
        """None when the target may be appealed now, else the customer-facing refusal."""
        return None

    def freeze_reason_for(self, target, requested: str) -> str:
        """The freeze reason an appeal of `target` disputes: "" for a kind without reasons
        (a requested one is ignored); the freeze kind refuses one not in force."""
        return ""

    @property
    def min_reason(self) -> int | None:
        """The shortest reason accepted beyond "not empty", if this kind asks for more."""
        return None

    def account_id_of(self, target) -> int:
        return target.pk if not self.account_field else getattr(target, f"{self.account_field}_id")

    def account_of(self, target) -> CreditAccount:
        return target if not self.account_field else getattr(target, self.account_field)

    def owned_queryset(self, customer) -> models.QuerySet:
        if not self.account_field:
            return self.model.objects.filter(customer=customer)
        return self.model.objects.filter(**{f"{self.account_field}__customer": customer})

    def summary(self, target) -> str:
        """One line describing what is appealed, for the customer (no other customer's data)."""
        return str(target)

    def decision_record(self, appeal: Appeal, **options: Any) -> None:
        """Keep the reviewer's inputs (`decision_fields`) on the appeal; this kind takes none."""
        if options:
            raise TypeError(f"the {self.key} kind takes no decision inputs: {sorted(options)}")

    def effect_plan(
        self, *, appeal: Appeal, target, account: CreditAccount, actor, now: datetime, note: str
    ) -> EffectPlan:
        """Check the approval can still take effect (else refuse, writing nothing) and plan it.

        Called with the appeal and the account locked; `target` is the account itself for an
        account kind. The plan's `apply` runs in the decision's transaction.
        """
        raise NotImplementedError


class AccountKind(AppealKind):
    """A kind whose target is the customer's credit account itself."""

    model = CreditAccount
    account_field = ""

    def summary(self, target) -> str:
        return str(
            _("Your credit line: status %(status)s, base limit %(limit)s")
            % {"status": target.get_status_display(), "limit": yuan(target.base_limit)}
        )


# --- usable limit (limit_change, freeze and restoration weigh what they give back) ----------


def usable_limit(*, frozen: bool, closed: bool, base: Decimal, temporary: Decimal, cap) -> Decimal:
    """The limit the line has for buying: nothing while frozen or closed.

    A line owing more than this limit still counts it: a restoration to ¥8,000 of a line
    that owes ¥9,000 gives back ¥8,000 of limit (the record and the notice say so), even
    though the customer buys nothing until they repay ¥1,000.
    """
    if frozen or closed:
        return ZERO
    return effective_limit(base=base, temporary=temporary, cap=cap)


def usable_gain(account: CreditAccount, *, base: Decimal | None = None, unfreeze=False) -> Decimal:
    """How much more usable limit the account has after the change than before (≥ 0).

    The probation cap is left out of the "after" side on purpose: servicing may lift it
    in steps later, so measuring without it never under-counts what an approval gives back.
    """
    numbers = {
        "temporary": account.temporary_limit,
        "closed": account.status == AccountStatus.CLOSED,
    }
    frozen = account.status == AccountStatus.FROZEN
    before = usable_limit(
        frozen=frozen, base=account.base_limit, cap=account.probation_limit_cap, **numbers
    )
    after = usable_limit(
        frozen=frozen and not unfreeze,
        base=account.base_limit if base is None else base,
        cap=None,
        **numbers,
    )
    return max(ZERO, after - before)
