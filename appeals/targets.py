"""What can be appealed: each target kind names its appeal type, its model and when it is eligible.

A target is stored generically (content type + id) but only these kinds are accepted, and a
target is always looked up through the appellant's own credit account, so another customer's
decision is indistinguishable from one that does not exist (404).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from appeals.errors import AppealNotFound, AppealTargetNotEligible
from appeals.models import AppealType
from credit.models import AccountStatus, CreditAccount


@dataclass(frozen=True)
class TargetKind:
    key: str
    appeal_type: str
    model_label: str  # "app_label.ModelName"; the kind is unavailable until that model exists
    # Field from the target to its CreditAccount ("" when the target is the account itself).
    account_field: str
    # None when the target may be appealed now, else the customer-facing refusal.
    refusal: Callable[[models.Model, datetime], str | None]
    label: str

    @property
    def model(self) -> type[models.Model] | None:
        app_label, model_name = self.model_label.split(".")
        try:
            return apps.get_model(app_label, model_name)
        except LookupError:
            return None

    def account_id_of(self, obj) -> int:
        return obj.pk if not self.account_field else getattr(obj, f"{self.account_field}_id")

    def owned_queryset(self, customer):
        model = self.model
        if model is None:
            raise AppealNotFound()
        if not self.account_field:
            return model.objects.filter(customer=customer)
        return model.objects.filter(**{f"{self.account_field}__customer": customer})


def _limit_change_refusal(change, now):
    if not change.is_decrease:
        return _("Only a limit decrease can be appealed.")
    return None


def _pending_decrease_refusal(pending, now):
    # The risk engine's announced cut can be appealed while it has not been applied: its
    # cooling-off lasts until a later run or risk staff confirm it (past `effective_at` too).
    if pending.status != "PENDING":
        return _("This limit decrease is no longer pending.")
    return None


def _freeze_refusal(account, now):
    if account.status != AccountStatus.FROZEN:
        return _("Your credit line is not frozen.")
    return None


RESTORABLE_STATUSES = (AccountStatus.FROZEN, AccountStatus.NEGATIVE, AccountStatus.RESTORED)


def _restoration_refusal(account, now):
    if account.status == AccountStatus.CLOSED:
        return _("This credit line is closed.")
    if account.status in RESTORABLE_STATUSES or account.available <= 0:
        return None
    return _("You can ask for your limit back after it was used up, went below zero or was frozen.")


def _installment_refusal(installment, now):
    if not installment.is_open:
        return _("This installment is already settled.")
    return None


def _acceleration_refusal(acceleration, now):
    if acceleration.status != "ACTIVE":
        return _("This early repayment demand is no longer in force.")
    return None


KINDS: dict[str, TargetKind] = {
    kind.key: kind
    for kind in (
        TargetKind(
            "limit_change",
            AppealType.LIMIT_DECREASE,
            "credit.LimitChange",
            "account",
            _limit_change_refusal,
            _("Limit decrease"),
        ),
        TargetKind(
            "pending_decrease",
            AppealType.LIMIT_DECREASE,
            "risk.PendingLimitDecrease",
            "account",
            _pending_decrease_refusal,
            _("Announced limit decrease"),
        ),
        TargetKind(
            "freeze",
            AppealType.FREEZE,
            "credit.CreditAccount",
            "",
            _freeze_refusal,
            _("Account freeze"),
        ),
        TargetKind(
            "restoration",
            AppealType.RESTORATION,
            "credit.CreditAccount",
            "",
            _restoration_refusal,
            _("Limit restoration"),
        ),
        TargetKind(
            "installment",
            AppealType.REPAYMENT_EXTENSION,
            "credit.Installment",
            "account",
            _installment_refusal,
            _("Installment"),
        ),
        TargetKind(
            "acceleration",
            AppealType.ACCELERATION,
            "servicing.Acceleration",
            "account",
            _acceleration_refusal,
            _("Early repayment demand"),
        ),
    )
}

# The kind an appeal type means when none is named (LIMIT_DECREASE also has pending_decrease).
DEFAULT_KIND_FOR_TYPE = {
    AppealType.LIMIT_DECREASE: "limit_change",
    AppealType.FREEZE: "freeze",
    AppealType.RESTORATION: "restoration",
    AppealType.REPAYMENT_EXTENSION: "installment",
    AppealType.ACCELERATION: "acceleration",
}


def kind_named(key: str) -> TargetKind:
    """A kind by its key, or by an appeal type value (its default kind)."""
    key = DEFAULT_KIND_FOR_TYPE.get(key, key)
    kind = KINDS.get(key)
    if kind is None or kind.model is None:
        raise AppealNotFound()
    return kind


def kind_of(appeal) -> TargetKind:
    """The kind an existing appeal targets (from its type and stored content type)."""
    model = ContentType.objects.get_for_id(appeal.target_content_type_id).model_class()
    for kind in KINDS.values():
        if kind.appeal_type == appeal.type and kind.model is model:
            return kind
    raise LookupError(f"no target kind for {appeal.type} on {model}")


def target_resolve(*, key: str, target_id, customer, now: datetime, lock: bool = False):
    """The customer's own target, eligible now: (kind, object). Foreign or unknown → 404."""
    kind = kind_named(key)
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise AppealNotFound() from None
    queryset = kind.owned_queryset(customer)
    if lock:
        queryset = queryset.select_for_update()
    obj = queryset.filter(pk=target_id).first()
    if obj is None:
        raise AppealNotFound()
    refusal = kind.refusal(obj, now)
    if refusal is not None:
        raise AppealTargetNotEligible(refusal)
    return kind, obj


def account_of(kind: TargetKind, obj) -> CreditAccount:
    return obj if not kind.account_field else getattr(obj, kind.account_field)
