"""Staff forms of the servicing admin (each submits to one service call)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from credit.formulas import INSTALLMENT_OPEN
from credit.models import AccountStatus, CreditAccount, Installment


class AccelerationDemandForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("Frozen credit account"),
        queryset=CreditAccount.objects.filter(status=AccountStatus.FROZEN).select_related(
            "customer"
        ),
        widget=forms.NumberInput,
        to_field_name="pk",
        help_text=_("The account id (only frozen accounts qualify)."),
    )
    reason = forms.CharField(
        label=_("Reason (the customer reads it)"), widget=forms.Textarea(attrs={"rows": 4})
    )


class AccelerationWithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Why the demand is withdrawn"), widget=forms.Textarea(attrs={"rows": 3})
    )


class InstallmentExtendForm(forms.Form):
    installment = forms.ModelChoiceField(
        label=_("Installment"),
        queryset=Installment.objects.filter(INSTALLMENT_OPEN),
        widget=forms.NumberInput,
        help_text=_("The installment id (open installments only)."),
    )
    days = forms.IntegerField(label=_("Days"), min_value=1)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = settings.SERVICING_EXTENSION_MAX_DAYS
        self.fields["days"].widget.attrs["max"] = self.fields["days"].max_value
