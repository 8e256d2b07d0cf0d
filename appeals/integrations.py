"""The services of servicing and the risk engine that appeal decisions call, in one place.

Imported lazily, so appeals work (and every other appeal type can be decided) on a checkout
where one of those sub-apps is not installed yet; a decision that needs it is refused.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from appeals.errors import DecisionNotApplicable
from core.reasons import ReasonCode


def _unavailable(what: str):
    return DecisionNotApplicable(
        _("This decision cannot be applied yet: %(what)s is not available.") % {"what": what}
    )


def installment_extend(*, installment, days: int, now, reason: str):
    """Servicing's 延期. `actor=None` is its contract for an approved appeal (the appeal
    records the reviewer); a person would need `servicing.extend_installment`."""
    try:
        from credit.servicing.services import installment_extend as extend
    except ImportError as exc:
        raise _unavailable("installment_extend") from exc
    return extend(installment=installment, days=days, actor=None, now=now, reason=reason)


def acceleration_withdraw(*, acceleration, now, note: str):
    """Servicing's withdrawal of 提前结清, as an approved appeal (`actor=None`, APPEAL_APPROVED)."""
    try:
        from credit.servicing.services import acceleration_withdraw as withdraw
    except ImportError as exc:
        raise _unavailable("acceleration_withdraw") from exc
    return withdraw(
        acceleration=acceleration,
        actor=None,
        now=now,
        note=note,
        reason_codes=[ReasonCode.APPEAL_APPROVED],
    )


def pending_decrease_cancel(*, pending, actor, now, note: str):
    try:
        from credit.risk.pending import pending_decrease_cancel as cancel
    except ImportError as exc:
        raise _unavailable("pending_decrease_cancel") from exc
    return cancel(pending=pending, actor=actor, now=now, note=note)


def pending_decreases_under_appeal(pending_ids) -> set[int]:
    """Announced decreases with an open appeal: the customer was told the change waits."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from appeals.models import OPEN_STATUSES, Appeal

    target_type = ContentType.objects.get_for_model(apps.get_model("risk", "PendingLimitDecrease"))
    return set(
        Appeal.objects.filter(
            target_content_type=target_type,
            target_object_id__in=list(pending_ids),
            status__in=OPEN_STATUSES,
        ).values_list("target_object_id", flat=True)
    )


def confirmation_holds_register() -> None:
    """Hold announced decreases under appeal back from confirmation (at start-up)."""
    try:
        from credit.risk.pending import confirmation_hold_register
    except ImportError:
        return
    confirmation_hold_register(pending_decreases_under_appeal)


def pending_decrease_new_limit(pending) -> Decimal:
    """The base limit the announced cut would set."""
    return pending.new_base_limit


def active_policy_bounds() -> tuple[Decimal, Decimal] | None:
    """(min, max) limit of the one active RiskPolicy, or None while there is none."""
    try:
        from credit.risk.models import RiskPolicy
    except ImportError:
        return None
    policy = RiskPolicy.objects.filter(is_active=True).first()
    if policy is None:
        return None
    return policy.min_limit, policy.max_limit
