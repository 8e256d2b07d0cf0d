from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, AuthenticationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.phone import normalize_phone


class PhoneLoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "tel",
                "inputmode": "tel",
                "placeholder": "138 0013 8000",
            }
        ),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The mobile number or password is incorrect."),
    }

    def clean_username(self):
        raw = self.cleaned_data["username"]
        try:
            return normalize_phone(raw)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="invalid_phone") from exc


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("phone",)


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


class PiiRevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need the full number?"),
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("For example: calling the customer back about appeal 123. Recorded."),
    )
