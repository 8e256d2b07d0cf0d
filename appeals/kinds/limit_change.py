"""A limit decrease already applied (a `LimitChange` that cut the base limit): approval
reverses the cut as our error — the base limit back to its level before it, the status it
would have without it (ACTIVE, no probation), penalties since waived."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import DecisionNotApplicable
from appeals.kinds.base import AppealKind, AppealKindKey, EffectPlan, row_reference, usable_gain
from appeals.models import AppealType
from credit.models import LimitChange, LimitChangeKind, ReversalSource
from credit.money import yuan
from credit.services import decision_reverse, wrong_cut


class LimitChangeAppeal(AppealKind):
    key = AppealKindKey.LIMIT_CHANGE
    appeal_type = AppealType.LIMIT_DECREASE
    model = LimitChange
    label = gettext_lazy("Limit decrease")
    effect = "LIMIT_RESTORED"
    default_for_type = True

    def refusal(self, change, now):
        if not change.is_decrease:
            return _("Only a limit decrease can be appealed.")
        return None

    def summary(self, change):
        return str(
            _("Limit changed from %(old)s to %(new)s on %(date)s")
            % {
                "old": yuan(change.old_effective_limit),
                "new": yuan(change.new_effective_limit),
                "date": timezone.localtime(change.created_at).date(),
            }
        )

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        previous = target.old_base_limit
        if account.base_limit >= previous:
            raise DecisionNotApplicable(
                _("The base limit is already at or above %(limit)s, its level before this cut.")
                % {"limit": yuan(previous)}
            )

        def apply():
            reversal = decision_reverse(
                account=account,
                wrong=wrong_cut(target),
                source=ReversalSource.APPEAL,
                reason=note,
                actor=actor,
                now=now,
                source_ref=row_reference(appeal),
                limit_kind=LimitChangeKind.APPEAL,
            )
            return row_reference(reversal.limit_change)

        gain = usable_gain(account, base=previous)
        return EffectPlan(gain, apply, notice={"restored_to": str(previous)})


KIND = LimitChangeAppeal()
