"""Staff operations on credit accounts: one form per operation, each calling one service."""

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.reasons import ACTS_AT_ONCE, ReasonCode
from credit.models import (
    ApprovalRequest,
    FreezeReason,
    LimitChange,
    ReversalSource,
    ReversedDecision,
)
from credit.money import yuan
from credit.risk.manual import limit_change_by_staff
from credit.risk.models import PendingLimitDecrease
from credit.services import (
    account_freeze,
    account_unfreeze,
    decision_reverse,
    temporary_limit_grant,
    wrong_cut,
    wrong_freeze,
    wrong_probation,
)
from credit.services.amounts import MONEY_FIELD_BOUNDS
from credit.services.approvals import approval_sent_message
from credit.services.errors import NothingToReverse
from credit.services.permissions import REVERSE_DECISION


class FreezeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        # Automatic causes only: servicing (OVERDUE) and the verification outcome.
        choices=[
            (r.value, r.label)
            for r in FreezeReason
            if r
            not in (FreezeReason.OVERDUE, FreezeReason.VERIFY_FAILED, FreezeReason.VERIFY_TIMEOUT)
        ],
    )
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        account_freeze(
            account=account,
            reason=self.cleaned_data["reason"],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        return _("frozen")


class UnfreezeForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Reason shown to the customer"),
        choices=[
            (code.value, code.label)
            for code in (
                ReasonCode.STAFF_DECISION,
                ReasonCode.APPEAL_APPROVED,
                ReasonCode.IDENTITY_CHECK,
                ReasonCode.COMPLIANCE,
            )
        ],
    )
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        account = account_unfreeze(
            account=account,
            reason_codes=[self.cleaned_data["reason_code"]],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        return _("unfrozen, now %(status)s") % {"status": account.get_status_display()}


class SetLimitForm(forms.Form):
    new_base_limit = forms.DecimalField(
        label=_("New base limit (¥)"), min_value=Decimal("0"), **MONEY_FIELD_BOUNDS
    )
    reason_code = forms.ChoiceField(label=_("Reason code"), choices=ReasonCode.choices)
    acts_at_once = forms.ChoiceField(
        label=_("Reason to cut at once, without notice"),
        required=False,
        choices=[("", _("None: a large cut is announced and waits"))]
        + [(code.value, code.label) for code in ACTS_AT_ONCE],
        help_text=_(
            "Only matters for a cut; a raise ignores it. A cut deeper than the cooling-off "
            "percent, or below what the customer owes, is announced to the customer and applies "
            "only after the cooling-off period (an open appeal holds it), unless one of these "
            "reasons applies."
        ),
    )
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        done = limit_change_by_staff(
            account=account,
            new_base_limit=self.cleaned_data["new_base_limit"],
            reason_codes=[self.cleaned_data["reason_code"]],
            cut_at_once=self.cleaned_data["acts_at_once"],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        if isinstance(done, PendingLimitDecrease):
            return _("cut %(old)s → %(new)s announced; it applies from %(when)s if confirmed") % {
                "old": yuan(done.old_base_limit),
                "new": yuan(done.new_base_limit),
                "when": timezone.localtime(done.effective_at).strftime("%Y-%m-%d %H:%M"),
            }
        if isinstance(done, ApprovalRequest):
            return approval_sent_message(done)
        return _("limit %(old)s → %(new)s") % {
            "old": yuan(done.old_base_limit),
            "new": yuan(done.new_base_limit),
        }


class GrantForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Extra limit (¥)"), min_value=Decimal("0.01"), **MONEY_FIELD_BOUNDS
    )
    starts_at = forms.SplitDateTimeField(label=_("Starts at"), widget=AdminSplitDateTime)
    ends_at = forms.SplitDateTimeField(label=_("Ends at"), widget=AdminSplitDateTime)
    campaign = forms.CharField(label=_("Campaign"), max_length=64, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise forms.ValidationError(_("The grant must end after it starts."))
        return data

    def apply(self, *, account, actor, now):
        grant = temporary_limit_grant(
            account=account,
            amount=self.cleaned_data["amount"],
            starts_at=self.cleaned_data["starts_at"],
            ends_at=self.cleaned_data["ends_at"],
            campaign=self.cleaned_data["campaign"],
            reason=self.cleaned_data["reason"],
            actor=actor,
            now=now,
        )
        if isinstance(grant, ApprovalRequest):
            return approval_sent_message(grant)
        return _("temporary limit +%(amount)s (%(status)s)") % {
            "amount": yuan(grant.amount),
            "status": grant.get_status_display(),
        }


class ReverseForm(forms.Form):
    """Staff's "reverse as our error": the freeze, the last limit cut or the probation."""

    decision = forms.ChoiceField(
        label=_("Decision that was our error"),
        choices=[
            (d.value, d.label)
            for d in (
                ReversedDecision.FREEZE,
                ReversedDecision.LIMIT_CUT,
                ReversedDecision.PROBATION,
            )
        ],
    )
    freeze_reason = forms.ChoiceField(
        label=_("Freeze reason that was our error"),
        required=False,
        choices=[("", _("Every reason (the whole freeze)")), *FreezeReason.choices],
        help_text=_(
            "For a freeze: only this reason is lifted, the account stays frozen for any other "
            "(refused if the account is not frozen for it)."
        ),
    )
    reason = forms.CharField(
        label=_("Why it was our error (for the record)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def apply(self, *, account, actor, now):
        decision = self.cleaned_data["decision"]
        if decision == ReversedDecision.FREEZE:
            wrong = wrong_freeze(account, reason=self.cleaned_data["freeze_reason"])
        elif decision == ReversedDecision.PROBATION:
            wrong = wrong_probation(account)
        else:
            last_cut = (
                LimitChange.objects.filter(account=account, new_base_limit__lt=F("old_base_limit"))
                .order_by("-pk")
                .first()
            )
            if last_cut is None:
                raise NothingToReverse()
            wrong = wrong_cut(last_cut)
        reversal = decision_reverse(
            account=account,
            wrong=wrong,
            source=ReversalSource.STAFF_ERROR,
            reason=self.cleaned_data["reason"],
            actor=actor,
            now=now,
        )
        return _("reversed as our error, now %(status)s, limit %(limit)s, %(waived)s waived") % {
            "status": reversal.get_status_after_display(),
            "limit": yuan(reversal.limit_after),
            "waived": yuan(reversal.penalty_waived),
        }


# operation → (form, permission, title)
OPERATIONS = {
    "freeze": (FreezeForm, "credit.freeze_creditaccount", _("Freeze credit accounts")),
    "unfreeze": (UnfreezeForm, "credit.freeze_creditaccount", _("Unfreeze credit accounts")),
    "set-limit": (SetLimitForm, "credit.set_limit_creditaccount", _("Set the base limit")),
    "grant": (GrantForm, "credit.grant_temporary_limit", _("Grant a temporary limit")),
    "reverse": (ReverseForm, REVERSE_DECISION, _("Reverse a decision as our error")),
}
