"""What an approved appeal does to the account, through the owning services, exactly once.

`effect_plan` is called by the deciding service with the appeal and the account locked. It
checks that the decision can still take effect (refusing, with nothing written, when it
cannot: the account is no longer frozen, the limit is already back, …), measures how much
usable limit it gives back (for maker-checker), and returns a closure that applies it inside
the decision's transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from appeals.errors import DecisionNotApplicable, RestoreAmountOutOfBounds
from appeals.targets import TargetKind
from core.reasons import ReasonCode
from credit.models import AccountStatus, CreditAccount, LimitChangeKind
from credit.money import ZERO, quantize
from credit.risk.pending import pending_decrease_cancel
from credit.risk.selectors import policy_limit_bounds
from credit.services import account_unfreeze, limit_set
from credit.servicing.services import acceleration_withdraw, installment_extend


@dataclass
class EffectPlan:
    restored_amount: Decimal
    apply: Callable[[], str]  # returns a reference to the row it wrote ("app.model:pk")
    restore_to: Decimal | None = None
    extension_days: int | None = None


def usable_limit(
    *, frozen: bool, closed: bool, base: Decimal, temporary: Decimal, cap, outstanding: Decimal
) -> Decimal:
    """The limit a customer can buy against: nothing while frozen, closed or below zero."""
    if frozen or closed:
        return ZERO
    effective = base + temporary
    if cap is not None:
        effective = min(effective, cap)
    if effective - outstanding < 0:
        return ZERO
    return effective


def usable_gain(account: CreditAccount, *, base: Decimal | None = None, unfreeze=False) -> Decimal:
    """How much more usable limit the account has after the change than before (≥ 0).

    The probation cap is left out of the "after" side on purpose: servicing may lift it
    in steps later, so measuring without it never under-counts what an approval gives back.
    """
    numbers = {
        "temporary": account.temporary_limit,
        "outstanding": account.outstanding_principal,
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


def _ref(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def effect_plan(
    *,
    kind: TargetKind,
    target,
    account: CreditAccount,
    actor,
    now,
    note: str,
    restore_to: Decimal | None = None,
    extension_days: int | None = None,
) -> EffectPlan:
    codes = [ReasonCode.APPEAL_APPROVED]

    def restore_previous(previous: Decimal) -> EffectPlan:
        if account.base_limit >= previous:
            raise DecisionNotApplicable(
                _("The base limit is already at or above ¥%(limit)s, its level before this cut.")
                % {"limit": previous}
            )

        def apply_restore():
            change = limit_set(
                account=account,
                new_base_limit=previous,
                kind=LimitChangeKind.APPEAL,
                reason_codes=codes,
                now=now,
                actor=actor,
                note=note,
            )
            return _ref(change)

        return EffectPlan(usable_gain(account, base=previous), apply_restore)

    if kind.key == "limit_change":
        return restore_previous(target.old_base_limit)

    if kind.key == "pending_decrease":
        # Never confirmed while the appeal is open (credit.risk.pending's holds), so it is
        # still pending unless something cancelled it meanwhile.
        if target.status != "PENDING":
            raise DecisionNotApplicable(_("This announced decrease was already cancelled."))
        # Nothing is given back now, but the cut it prevents is what maker-checker weighs.
        avoided = max(ZERO, account.base_limit - target.new_base_limit)

        def apply_pending():
            pending_decrease_cancel(pending=target, actor=actor, now=now, note=note)
            return _ref(target)

        return EffectPlan(avoided, apply_pending)

    if kind.key == "freeze":
        if account.status != AccountStatus.FROZEN:
            raise DecisionNotApplicable(_("The account is no longer frozen."))

        def apply_freeze():
            account_unfreeze(account=account, now=now, actor=actor, note=note, reason_codes=codes)
            return _ref(account)

        return EffectPlan(usable_gain(account, unfreeze=True), apply_freeze)

    if kind.key == "restoration":
        if restore_to is not None:
            restore_to = quantize(restore_to)
            bounds = policy_limit_bounds()
            low, high = bounds if bounds is not None else (ZERO, None)
            if restore_to < low or (high is not None and restore_to > high):
                raise RestoreAmountOutOfBounds(
                    _("Choose a limit between ¥%(low)s and ¥%(high)s (the risk policy's bounds).")
                    % {"low": low, "high": high if high is not None else "—"}
                )
            target_base = restore_to
        elif account.pre_incident_limit is not None:
            target_base = account.pre_incident_limit  # the policy default
        else:
            raise DecisionNotApplicable(
                _("This account has no limit from before an incident; set the limit to restore.")
            )
        frozen = account.status == AccountStatus.FROZEN
        if target_base <= account.base_limit and not frozen:
            raise DecisionNotApplicable(
                _("The base limit is already ¥%(limit)s; there is nothing to restore.")
                % {"limit": account.base_limit}
            )

        def apply_restoration():
            reference = _ref(account)
            if frozen:
                account_unfreeze(
                    account=account, now=now, actor=actor, note=note, reason_codes=codes
                )
            if target_base > account.base_limit:
                reference = _ref(
                    limit_set(
                        account=account,
                        new_base_limit=target_base,
                        kind=LimitChangeKind.APPEAL,
                        reason_codes=codes,
                        now=now,
                        actor=actor,
                        note=note,
                    )
                )
            return reference

        gain = usable_gain(account, base=max(target_base, account.base_limit), unfreeze=frozen)
        return EffectPlan(gain, apply_restoration, restore_to=restore_to)

    if kind.key == "installment":
        days = extension_days or settings.APPEALS_DEFAULT_EXTENSION_DAYS

        def apply_extension():
            return _ref(
                # `actor=None`: servicing's contract for an approved appeal (the appeal
                # records the reviewer).
                installment_extend(installment=target, days=days, actor=None, now=now, reason=note)
            )

        return EffectPlan(ZERO, apply_extension, extension_days=days)

    if kind.key == "acceleration":

        def apply_withdrawal():
            acceleration_withdraw(
                acceleration=target, actor=None, now=now, note=note, reason_codes=codes
            )
            return _ref(target)

        return EffectPlan(ZERO, apply_withdrawal)

    raise LookupError(kind.key)
