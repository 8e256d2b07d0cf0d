"""An open installment: approval gives more time to repay it (servicing's extension)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.kinds.base import AppealKind, AppealKindKey, EffectPlan, row_reference
from appeals.models import AppealType
from credit.models import Installment
from credit.money import ZERO, yuan
from credit.servicing.services import installment_extend


class InstallmentAppeal(AppealKind):
    key = AppealKindKey.INSTALLMENT
    appeal_type = AppealType.REPAYMENT_EXTENSION
    model = Installment
    label = gettext_lazy("Installment")
    effect = "INSTALLMENT_EXTENDED"
    default_for_type = True
    decision_fields = {
        "extension_days": forms.IntegerField(
            label=gettext_lazy("Extension (days)"),
            required=False,
            min_value=1,
            max_value=366,
            help_text=gettext_lazy("Repayment extension only. Empty: the default."),
        )
    }

    def refusal(self, installment, now):
        if not installment.is_open:
            return _("This installment is already settled.")
        return None

    def summary(self, installment):
        return str(
            _("Installment %(seq)s of plan #%(plan)s, due %(date)s, %(amount)s")
            % {
                "seq": installment.sequence,
                "plan": installment.plan_id,
                "date": installment.due_date,
                "amount": yuan(installment.amount_due),
            }
        )

    def decision_record(self, appeal, *, extension_days=None):
        # The Appeal column is this kind's alone.
        appeal.extension_days = extension_days or settings.APPEALS_DEFAULT_EXTENSION_DAYS

    def effect_plan(self, *, appeal, target, account, actor, now, note):
        notice = {"extension_days": appeal.extension_days}

        def apply():
            # `actor=None`: servicing's contract for an approved appeal (the appeal records
            # the reviewer).
            extension = installment_extend(
                installment=target, days=appeal.extension_days, actor=None, now=now, reason=note
            )
            notice["new_due_date"] = extension.new_due_date.isoformat()
            return row_reference(extension)

        return EffectPlan(ZERO, apply, notice=notice)


KIND = InstallmentAppeal()
