"""What the risk admins share: the note step of an action, refusals shown as messages,
JSON shown as a block."""

import json

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


def refused(request, exc: DomainError, obj) -> None:
    """Show why the service refused, naming the object."""
    messages.error(request, f"{obj}: {exc.message}")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


def note_action(modeladmin, request, queryset, *, title: str, call) -> TemplateResponse | None:
    """An action that asks for a note first, then calls `call(obj, note)` for each object."""
    if request.POST.get("confirm") == "yes":
        form = NoteForm(request.POST)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    call(obj, form.cleaned_data["note"])
                    done += 1
                except DomainError as exc:
                    refused(request, exc, obj)
            if done:
                messages.success(request, _("%(title)s: %(n)s done.") % {"title": title, "n": done})
            return None
    else:
        form = NoteForm()
    return TemplateResponse(
        request,
        "admin/risk/note_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def json_block(value) -> str:
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )
