"""Portal forms. They only parse input; the services decide and refuse."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from credit.services.amounts import amount_validate
from credit.services.errors import CreditError


class AmountField(forms.CharField):
    """An amount in yuan, checked by the same rule as the services (> 0, at most 2 places)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return amount_validate(value)
        except CreditError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc


class IdempotentForm(forms.Form):
    """Carries a key made when the page was drawn: a double submit takes effect once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class RepayForm(IdempotentForm):
    amount = AmountField(label=_("Amount (¥)"))


class PayoffForm(IdempotentForm):
    pass


class CheckoutForm(forms.Form):
    """Step 1 of the demo checkout: what is bought, from which merchant, for how much."""

    merchant = forms.ModelChoiceField(queryset=None, label=_("Shop"), empty_label=None)
    item = forms.CharField(label=_("Item"), max_length=200)
    amount = AmountField(label=_("Price (¥)"))

    def __init__(self, *args, merchants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = merchants


class CheckoutConfirmForm(CheckoutForm, IdempotentForm):
    """Step 2: the term the customer picked after seeing every quote."""

    term = forms.TypedChoiceField(label=_("Installments"), coerce=int, choices=())

    def __init__(self, *args, terms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].choices = [(t, t) for t in terms]


class VerificationForm(forms.Form):
    code = forms.CharField(
        label=_("Security code from the SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}
        ),
    )
