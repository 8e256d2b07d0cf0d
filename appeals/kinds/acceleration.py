"""An early repayment demand in force (`Acceleration`): approval withdraws it and reverses it
as our error (penalties since the demand waived, the customer told what was put right)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.kinds.base import AppealKind, AppealKindKey, EffectPlan, row_reference
from appeals.models import AppealType
from core.reasons import ReasonCode
from credit.models import ReversalSource
from credit.money import ZERO
from credit.services import decision_reverse, wrong_acceleration
from credit.servicing.models import Acceleration, AccelerationStatus
from credit.servicing.services import acceleration_withdraw


class AccelerationAppeal(AppealKind):
    key = AppealKindKey.ACCELERATION
    appeal_type = AppealType.ACCELERATION
    model = Acceleration
    label = gettext_lazy("Early repayment demand")
    effect = "DEMAND_WITHDRAWN"
    default_for_type = True

    def refusal(self, acceleration, now):
        if acceleration.status != AccelerationStatus.ACTIVE:
            return _("This early repayment demand is no longer in force.")
        return None

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        def apply():
            acceleration_withdraw(
                acceleration=target,
                actor=None,
                now=now,
                note=note,
                reason_codes=[ReasonCode.APPEAL_APPROVED],
                notify=False,
            )
            decision_reverse(
                account=account,
                wrong=wrong_acceleration(target),
                source=ReversalSource.APPEAL,
                reason=note,
                actor=actor,
                now=now,
                source_ref=row_reference(appeal),
            )
            return row_reference(target)  # the reversal names the appeal (`source_ref`)

        return EffectPlan(ZERO, apply)


KIND = AccelerationAppeal()
