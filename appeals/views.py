"""Customer portal pages: appeal a decision, my appeals, detail, answer, write, withdraw, files.

Each view translates input, calls one service, and renders or redirects. Another customer's
appeal, target or file is a 404 (never a 403, which would confirm it exists).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals import selectors, services
from appeals.attachments import name_for_kind
from appeals.errors import AppealError, AppealNotFound
from appeals.forms import AnswerForm, AppealForm, MessageForm
from appeals.kinds import KINDS, target_resolve
from appeals.models import OPEN_STATUSES, AppealStatus
from core.errors import DomainError


def _own_appeal(request, pk):
    try:
        return selectors.appeal_for_customer(customer=request.user, pk=pk)
    except AppealNotFound:
        raise Http404 from None


@login_required
def appeal_list(request):
    appeals = list(selectors.appeals_for_customer(customer=request.user))
    return render(request, "appeals/list.html", {"appeals": appeals})


def target_from_query(data) -> tuple[str, str]:
    """(kind, target id) from a link: `?kind=<key>&target=<id>`, or the forms other apps'
    notices already use (`?<key or alias>=<id>`, e.g. `?type=LIMIT_DECREASE&pending=<id>`)."""
    if data.get("kind"):
        return data["kind"], data.get("target", "")
    for kind in KINDS.values():
        for name in (kind.key, *kind.query_aliases):
            if data.get(name):
                return kind.key, data[name]
    return data.get("type", ""), data.get("target", "")


@login_required
def appeal_new(request):
    """The form, prefilled from the "appeal this" link (?kind=…&target=…)."""
    data = request.POST if request.method == "POST" else request.GET
    kind_key, target_id = target_from_query(data)
    freeze_reason = data.get("freeze_reason", "")
    now = timezone.now()
    refusal = None
    try:
        kind, target = target_resolve(
            key=kind_key, target_id=target_id, customer=request.user, now=now
        )
        # The freeze reason disputed ("" for other kinds); one no longer in force is refused.
        cause = kind.freeze_reason_for(target, freeze_reason)
    except AppealNotFound:
        raise Http404 from None
    except AppealError as exc:
        kind, target, cause, refusal = None, None, "", str(exc.message)

    form = AppealForm(
        initial={"kind": kind_key, "target": target_id, "freeze_reason": freeze_reason}
    )
    if request.method == "POST" and refusal is None:
        form = AppealForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                appeal = services.appeal_submit(
                    customer=request.user,
                    kind=form.cleaned_data["kind"],
                    target_id=form.cleaned_data["target"],
                    reason=form.cleaned_data["reason"],
                    files=form.cleaned_data["files"],
                    now=now,
                    freeze_reason=form.cleaned_data["freeze_reason"],
                )
            except AppealNotFound:
                raise Http404 from None
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("Your appeal was submitted. We will decide within %(hours)d hours.")
                    % {"hours": settings.APPEALS_SLA_HOURS},
                )
                return redirect("appeals:detail", pk=appeal.pk)
    return render(
        request,
        "appeals/new.html",
        {
            "form": form,
            "kind": kind,
            "target": target,
            "refusal": refusal,
            "freeze_reason_label": selectors.FREEZE_REASON_LABELS.get(cause, cause),
            "min_reason": kind.min_reason if kind is not None else None,
        },
    )


@login_required
def appeal_detail(request, pk):
    appeal = _own_appeal(request, pk)
    context = {
        "appeal": appeal,
        "timeline": selectors.appeal_timeline(appeal=appeal, for_customer=True),
        "target_summary": selectors.appeal_target_summary(appeal),
        "is_open": appeal.status in OPEN_STATUSES,
        "needs_info": appeal.status == AppealStatus.NEEDS_INFO,
        "answer_form": AnswerForm(),
        "message_form": MessageForm(),
    }
    return render(request, "appeals/detail.html", context)


def _post_action(request, pk, action, success_message):
    appeal = _own_appeal(request, pk)
    try:
        action(appeal)
    except AppealNotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success_message)
    return redirect("appeals:detail", pk=appeal.pk)


@login_required
@require_POST
def appeal_answer(request, pk):
    form = AnswerForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Write your answer before sending it."))
        return redirect("appeals:detail", pk=_own_appeal(request, pk).pk)
    return _post_action(
        request,
        pk,
        lambda appeal: services.appeal_answer(
            appeal=appeal,
            customer=request.user,
            text=form.cleaned_data["text"],
            files=form.cleaned_data["files"],
            now=timezone.now(),
        ),
        _("Thank you, your answer was sent. The review continues."),
    )


@login_required
@require_POST
def appeal_message(request, pk):
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a message before sending it."))
        return redirect("appeals:detail", pk=_own_appeal(request, pk).pk)
    return _post_action(
        request,
        pk,
        lambda appeal: services.appeal_message_add(
            appeal=appeal, author=request.user, body=form.cleaned_data["body"], now=timezone.now()
        ),
        _("Your message was sent."),
    )


@login_required
@require_POST
def appeal_withdraw(request, pk):
    return _post_action(
        request,
        pk,
        lambda appeal: services.appeal_withdraw(
            appeal=appeal, customer=request.user, now=timezone.now()
        ),
        _("Your appeal was withdrawn."),
    )


def attachment_response(attachment) -> FileResponse:
    """Stream a private file as a download, under its display name, never inline."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        # Files kept before names followed their type (`poly.html`) download right too.
        filename=name_for_kind(attachment.original_name, attachment.content_type),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def attachment_download(request, pk, attachment_pk):
    try:
        attachment = selectors.attachment_for_download(
            user=request.user, appeal_pk=pk, attachment_pk=attachment_pk
        )
    except AppealNotFound:
        raise Http404 from None
    return attachment_response(attachment)


def attachment_url(attachment) -> str:
    return reverse("appeals:attachment", args=[attachment.appeal_id, attachment.pk])
