"""Asking for the limit back after it was frozen, went below zero, was put on probation or was
used up: approval unfreezes if frozen, then sets the base limit to the pre-incident limit (the
policy default; servicing's close caps it under probation and lifts it in steps) or to an
amount the reviewer sets within the active risk policy's bounds — exactly that amount, at
once, with no probation cap and no later step above it."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import DecisionNotApplicable, RestoreAmountOutOfBounds
from appeals.kinds.base import (
    AccountKind,
    AppealKindKey,
    DecisionOutcome,
    EffectPlan,
    limit_give_back,
    row_reference,
    usable_gain,
)
from appeals.models import AppealType
from core.reasons import ReasonCode
from credit.models import AccountStatus
from credit.money import ZERO, quantize, yuan
from credit.risk.selectors import policy_limit_bounds
from credit.services import account_unfreeze
from credit.services.amounts import MONEY_FIELD_BOUNDS
from credit.services.restore import limit_restore_exactly

RESTORABLE_STATUSES = (AccountStatus.FROZEN, AccountStatus.NEGATIVE, AccountStatus.RESTORED)


class RestorationAppeal(AccountKind):
    key = AppealKindKey.RESTORATION
    appeal_type = AppealType.RESTORATION
    label = gettext_lazy("Limit restoration")
    effect = "LIMIT_RESTORED"
    default_for_type = True
    decision_fields = {
        "restore_to": forms.DecimalField(
            label=gettext_lazy("Restore the base limit to (¥)"),
            required=False,
            min_value=0,
            **MONEY_FIELD_BOUNDS,
            help_text=gettext_lazy(
                "Restoration only. This exact base limit, usable at once (it may be lower than "
                "before the incident: the customer is told the appeal is partly approved). "
                "Empty: the policy default (the limit before the incident, coming back in "
                "steps under probation)."
            ),
        )
    }

    def refusal(self, account, now):
        if account.status == AccountStatus.CLOSED:
            return _("This credit line is closed.")
        if account.status in RESTORABLE_STATUSES or account.available <= 0:
            return None
        return _(
            "You can ask for your limit back after it was used up, went below zero or was frozen."
        )

    @property
    def min_reason(self):
        return settings.APPEALS_RESTORATION_MIN_REASON

    def decision_record(self, appeal, *, restore_to=None):
        # The Appeal column is this kind's alone; a second approval plans again from it.
        appeal.restore_to = restore_to

    def _target_base(self, appeal, account):
        if appeal.restore_to is not None:
            restore_to = quantize(appeal.restore_to)
            bounds = policy_limit_bounds()
            low, high = bounds if bounds is not None else (ZERO, None)
            if restore_to < low or (high is not None and restore_to > high):
                raise RestoreAmountOutOfBounds(
                    _("Choose a limit between %(low)s and %(high)s (the risk policy's bounds).")
                    % {"low": yuan(low), "high": yuan(high) if high is not None else "—"}
                )
            return restore_to
        if account.pre_incident_limit is not None:
            return account.pre_incident_limit  # the policy default
        raise DecisionNotApplicable(
            _("This account has no limit from before an incident; set the limit to restore.")
        )

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        target_base = self._target_base(appeal, account)
        exact = appeal.restore_to is not None
        frozen = account.status == AccountStatus.FROZEN
        before_incident = account.pre_incident_limit
        if exact:
            # Exactly the reviewer's amount, now: refused only when it gives nothing back.
            nothing = target_base + account.temporary_limit <= account.effective_limit
        else:
            nothing = target_base <= account.base_limit
        if nothing and not frozen:
            raise DecisionNotApplicable(
                _("The limit is already %(limit)s; there is nothing to restore.")
                % {"limit": yuan(account.effective_limit if exact else account.base_limit)}
            )

        def apply():
            reference = row_reference(account)
            if frozen:
                account_unfreeze(
                    account=account,
                    now=now,
                    actor=actor,
                    note=note,
                    reason_codes=[ReasonCode.APPEAL_APPROVED],
                )
            if exact:
                change = limit_restore_exactly(
                    account=account,
                    base_limit=target_base,
                    reason_codes=[ReasonCode.APPEAL_APPROVED],
                    now=now,
                    actor=actor,
                    note=note,
                )
                reference = row_reference(change)
            elif target_base > account.base_limit:
                reference = limit_give_back(
                    account=account, base_limit=target_base, actor=actor, now=now, note=note
                )
            return reference

        new_base = target_base if exact else max(target_base, account.base_limit)
        gain = usable_gain(account, base=new_base, unfreeze=frozen)
        partial = before_incident is not None and new_base < before_incident
        notice = {
            "restored_to": str(new_base),
            "unfrozen": frozen,
            # The default comes back in steps under probation; an exact amount at once.
            "in_steps": not exact and before_incident is not None,
        }
        if partial:
            notice["limit_before_incident"] = str(before_incident)
        outcome = DecisionOutcome.PARTIAL if partial else DecisionOutcome.APPROVED
        return EffectPlan(gain, apply, outcome=outcome, notice=notice)


KIND = RestorationAppeal()
