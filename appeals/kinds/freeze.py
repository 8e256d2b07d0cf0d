"""The account's freeze: approval unfreezes it (→ RESTORED, or NEGATIVE if still below zero)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import DecisionNotApplicable
from appeals.kinds.base import AccountKind, AppealKindKey, EffectPlan, row_reference, usable_gain
from appeals.models import AppealType
from core.reasons import ReasonCode
from credit.models import AccountStatus
from credit.services import account_unfreeze


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
            account_unfreeze(
                account=account,
                now=now,
                actor=actor,
                note=note,
                reason_codes=[ReasonCode.APPEAL_APPROVED],
            )
            return row_reference(account)

        return EffectPlan(usable_gain(account, unfreeze=True), apply)


KIND = FreezeAppeal()
