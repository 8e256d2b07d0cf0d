"""A limit decrease the risk engine announced and has not applied (`PendingLimitDecrease`):
approval cancels it. While the appeal is open nobody confirms it, as its notice promises."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.errors import DecisionNotApplicable
from appeals.kinds.base import AppealKind, AppealKindKey, EffectPlan, row_reference
from appeals.models import OPEN_STATUSES, Appeal, AppealType
from credit.money import ZERO
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.risk.pending import confirmation_hold_register, pending_decrease_cancel


class PendingDecreaseAppeal(AppealKind):
    key = AppealKindKey.PENDING_DECREASE
    appeal_type = AppealType.LIMIT_DECREASE
    model = PendingLimitDecrease
    label = gettext_lazy("Announced limit decrease")
    effect = "DECREASE_CANCELLED"
    query_aliases = ("pending",)  # the risk engine's notice links `?type=LIMIT_DECREASE&pending=`

    def ready(self):
        # Announced decreases under appeal wait: the customer was told the change waits.
        confirmation_hold_register(self.under_appeal)

    def under_appeal(self, pending_ids) -> set[int]:
        """The announced decreases among `pending_ids` with an open appeal (one query)."""
        return set(
            Appeal.objects.filter(
                target_content_type=ContentType.objects.get_for_model(PendingLimitDecrease),
                target_object_id__in=list(pending_ids),
                status__in=OPEN_STATUSES,
            ).values_list("target_object_id", flat=True)
        )

    def refusal(self, pending, now):
        # Appealable while not applied: its cooling-off lasts until a later run or risk staff
        # confirm it (past `effective_at` too).
        if pending.status != PendingStatus.PENDING:
            return _("This limit decrease is no longer pending.")
        return None

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        # Never confirmed while the appeal is open (credit.risk.pending's holds), so it is
        # still pending unless something cancelled it meanwhile.
        if target.status != PendingStatus.PENDING:
            raise DecisionNotApplicable(_("This announced decrease was already cancelled."))

        def apply():
            pending_decrease_cancel(pending=target, actor=actor, now=now, note=note)
            return row_reference(target)

        # Nothing is given back now, but the cut it prevents is what maker-checker weighs.
        return EffectPlan(max(ZERO, account.base_limit - target.new_base_limit), apply)


KIND = PendingDecreaseAppeal()
