"""The registry of appeal kinds: the only list of what a customer can appeal.

A target is stored generically on the appeal (content type + id) but only these kinds are
accepted, and a target is always looked up through the appellant's own credit account, so
another customer's decision is indistinguishable from one that does not exist (404).
Adding a kind: docs/appeals.md ("Adding a kind").
"""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured

from appeals.errors import AppealNotFound, AppealTargetNotEligible
from appeals.kinds import (
    acceleration,
    freeze,
    installment,
    limit_change,
    pending_decrease,
    restoration,
)
from appeals.kinds.base import AppealKind, AppealKindKey, EffectPlan
from appeals.models import Appeal, AppealType

__all__ = ["KINDS", "AppealKind", "AppealKindKey", "EffectPlan"]


def _registry(*kinds: AppealKind) -> dict[str, AppealKind]:
    registry: dict[str, AppealKind] = {}
    for kind in kinds:
        if kind.key in registry:
            raise ImproperlyConfigured(f"appeal kind {kind.key} is registered twice")
        registry[kind.key] = kind
    return registry


KINDS: dict[str, AppealKind] = _registry(
    limit_change.KIND,
    pending_decrease.KIND,
    freeze.KIND,
    restoration.KIND,
    installment.KIND,
    acceleration.KIND,
)


def kind_names() -> list[str]:
    """What a request may name: a kind's key, or an appeal type meaning its default kind."""
    return [*KINDS, *AppealType.values]


def kind_named(key: str) -> AppealKind:
    """A kind by its key, or by an appeal type value (its default kind); unknown → 404."""
    kind = KINDS.get(key) or next(
        (k for k in KINDS.values() if k.default_for_type and k.appeal_type == key), None
    )
    if kind is None:
        raise AppealNotFound()
    return kind


def kind_of(appeal: Appeal) -> AppealKind:
    """The kind an existing appeal targets (from its type and stored content type)."""
    model = ContentType.objects.get_for_id(appeal.target_content_type_id).model_class()
    for kind in KINDS.values():
        if kind.appeal_type == appeal.type and kind.model is model:
            return kind
    raise LookupError(f"no appeal kind for {appeal.type} on {model}")


def target_resolve(*, key: str, target_id, customer, now: datetime):
    """The customer's own target, eligible now: (kind, object). Foreign or unknown → 404."""
    kind = kind_named(key)
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise AppealNotFound() from None
    target = kind.owned_queryset(customer).filter(pk=target_id).first()
    if target is None:
        raise AppealNotFound()
    refusal = kind.refusal(target, now)
    if refusal is not None:
        raise AppealTargetNotEligible(refusal)
    return kind, target
