"""Portal and admin forms: they translate input only; every rule lives in the services."""

import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from appeals.models import AppealStatus


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files; the service checks count, size and content."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


FILES_HELP = _("Up to 5 files, 5 MB each: PDF, JPEG or PNG (income proof, statements, …).")


class AppealForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput)
    target = forms.IntegerField(widget=forms.HiddenInput)
    freeze_reason = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    reason = forms.CharField(
        label=_("Why do you appeal?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
    )
    files = MultipleFileField(label=_("Supporting documents"), help_text=FILES_HELP)


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )
    files = MultipleFileField(label=_("Supporting documents"), help_text=FILES_HELP)


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


# --- admin (intermediate pages) ---------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Required. Kept in the appeal's audit trail."),
    )


class RequestInfoForm(forms.Form):
    note = forms.CharField(
        label=_("Question to the customer"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("The customer reads this and answers with text and files."),
    )


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[(AppealStatus.APPROVED, _("Approve")), (AppealStatus.REJECTED, _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required. Staff only."),
    )
    customer_reason = forms.CharField(
        label=_("Reason the customer reads"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text=_("Required for a rejection."),
    )

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        # The inputs the appeal's kind takes with an approval (restoration: the limit, …).
        self.fields.update(copy.deepcopy(kind.decision_fields))
