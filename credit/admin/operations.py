"""Staff operations on credit accounts: one form per operation, each calling one service."""

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils.translation import gettext_lazy as _

from core.reasons import ReasonCode
from credit.models import ApprovalRequest, FreezeReason
from credit.services import account_freeze, account_unfreeze, limit_set, temporary_limit_grant
from credit.services.approvals import approval_sent_message


class FreezeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(r.value, r.label) for r in FreezeReason if r != FreezeReason.OVERDUE],
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
        label=_("New base limit (¥)"), min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    reason_code = forms.ChoiceField(label=_("Reason code"), choices=ReasonCode.choices)
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        change = limit_set(
            account=account,
            new_base_limit=self.cleaned_data["new_base_limit"],
            reason_codes=[self.cleaned_data["reason_code"]],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        if isinstance(change, ApprovalRequest):
            return approval_sent_message(change)
        return _("limit %(old)s → %(new)s") % {
            "old": change.old_base_limit,
            "new": change.new_base_limit,
        }


class GrantForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Extra limit (¥)"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
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
            "amount": grant.amount,
            "status": grant.get_status_display(),
        }


# operation → (form, permission, title)
OPERATIONS = {
    "freeze": (FreezeForm, "credit.freeze_creditaccount", _("Freeze credit accounts")),
    "unfreeze": (UnfreezeForm, "credit.freeze_creditaccount", _("Unfreeze credit accounts")),
    "set-limit": (SetLimitForm, "credit.set_limit_creditaccount", _("Set the base limit")),
    "grant": (GrantForm, "credit.grant_temporary_limit", _("Grant a temporary limit")),
}
