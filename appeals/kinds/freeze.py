"""One reason of the account's freeze: approval reverses that reason as our error, and only it.

Each freeze reason is a cause of its own (the banner links each to its own appeal): approval
lifts the reason appealed; with no other reason left the account goes to ACTIVE with the
whole limit, no probation (NEGATIVE only if it owes more than its limit even so); with others
left it stays FROZEN for them. A reason the customer ends by repaying (OVERDUE) is not
appealed here: they repay, or ask for more time (the installment kind). An appeal from before
reasons (`freeze_reason` "") still reverses the whole freeze.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import AppealTargetNotEligible, DecisionNotApplicable
from appeals.kinds.base import AccountKind, AppealKindKey, EffectPlan, row_reference, usable_gain
from appeals.models import AppealType
from credit.models import (
    FREEZE_REASONS_ENDED_BY_REPAYING,
    AccountStatus,
    FreezeReason,
    ReversalSource,
)
from credit.services import decision_reverse, wrong_freeze


def _repay_instead() -> str:
    return _(
        "A freeze for overdue installments is lifted by repaying them, not by an appeal. If "
        "you need more time to repay, appeal the overdue installment."
    )


class FreezeAppeal(AccountKind):
    key = AppealKindKey.FREEZE
    appeal_type = AppealType.FREEZE
    label = gettext_lazy("Account freeze")
    effect = "UNFROZEN"
    default_for_type = True

    def refusal(self, account, now):
        if account.status != AccountStatus.FROZEN:
            return _("Your credit line is not frozen.")
        return None

    def freeze_reason_for(self, account, requested):
        if requested in FREEZE_REASONS_ENDED_BY_REPAYING:
            raise AppealTargetNotEligible(_repay_instead())
        if requested:
            if requested not in account.freeze_reasons:
                raise AppealTargetNotEligible(
                    _("Your credit line is no longer frozen for this reason: nothing to appeal.")
                )
            return requested
        # A link without a reason (an older notice): the one reason an appeal can lift.
        appealable = [
            r for r in account.freeze_reasons if r not in FREEZE_REASONS_ENDED_BY_REPAYING
        ]
        if not appealable:
            raise AppealTargetNotEligible(_repay_instead())
        if len(appealable) > 1:
            raise AppealTargetNotEligible(
                _(
                    "Your credit line is frozen for more than one reason: appeal each one "
                    "from its own link on your overview page."
                )
            )
        return appealable[0]

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        if account.status != AccountStatus.FROZEN:
            raise DecisionNotApplicable(_("The account is no longer frozen."))
        reason = appeal.freeze_reason
        if reason and reason not in account.freeze_reasons:
            raise DecisionNotApplicable(
                _("The account is no longer frozen for the reason appealed (%(reason)s).")
                % {"reason": dict(FreezeReason.choices).get(reason, reason)}
            )
        others = [r for r in account.freeze_reasons if reason and r != reason]

        def apply():
            decision_reverse(
                account=account,
                wrong=wrong_freeze(account, reason=reason),
                source=ReversalSource.APPEAL,
                reason=note,
                actor=actor,
                now=now,
                source_ref=row_reference(appeal),
            )
            return row_reference(account)  # the reversal names the appeal (`source_ref`)

        return EffectPlan(usable_gain(account, unfreeze=not others), apply)


KIND = FreezeAppeal()
