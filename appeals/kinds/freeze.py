"""The account's freeze: approval reverses it as our error (→ ACTIVE with the whole limit, no
probation; NEGATIVE only if it owes more than its limit even so)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import DecisionNotApplicable
from appeals.kinds.base import AccountKind, AppealKindKey, EffectPlan, row_reference, usable_gain
from appeals.models import AppealType
from credit.models import AccountStatus, ReversalSource
from credit.services import decision_reverse, wrong_freeze


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

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        if account.status != AccountStatus.FROZEN:
            raise DecisionNotApplicable(_("The account is no longer frozen."))

        def apply():
            decision_reverse(
                account=account,
                wrong=wrong_freeze(account),
                source=ReversalSource.APPEAL,
                reason=note,
                actor=actor,
                now=now,
                source_ref=row_reference(appeal),
            )
            return row_reference(account)  # the reversal names the appeal (`source_ref`)

        return EffectPlan(usable_gain(account, unfreeze=True), apply)


KIND = FreezeAppeal()
