"""Portal inbox: list, mark read, mark all read, the marketing choice. One service call each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import selectors, services
from notifications.models import Channel
from notifications.providers import provider_class
from notifications.rendering import RenderedNotice, notice_render


def _rendered(notice) -> RenderedNotice:
    try:
        return notice_render(
            channel=Channel.IN_APP,
            template_key=notice.template_key,
            language=translation.get_language(),
            context=notice.context,
        )
    except TemplateDoesNotExist:
        return RenderedNotice(subject=notice.get_event_display(), body="")


@login_required
def inbox(request):
    page = selectors.inbox_page(user=request.user, page_number=request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "notices": [(notice, _rendered(notice)) for notice in page],
            "marketing_opted_out": selectors.marketing_opted_out(user=request.user),
        },
    )


@login_required
@require_POST
def mark_read(request, pk: int):
    try:
        services.notification_mark_read(user=request.user, notification_id=pk, now=timezone.now())
    except services.NotificationNotFound as exc:
        raise Http404(str(exc)) from exc
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user, now=timezone.now())
    if count:
        messages.success(request, _("All notices are marked as read."))
    return redirect("notifications:inbox")


@login_required
@require_POST
def preferences(request):
    opted_out = request.POST.get("marketing") != "on"
    services.preference_marketing_set(user=request.user, opted_out=opted_out, now=timezone.now())
    if opted_out:
        messages.success(request, _("You will no longer receive offers and campaigns."))
    else:
        messages.success(request, _("You will receive offers and campaigns."))
    return redirect("notifications:inbox")


@login_required
def sandbox_sms(request):
    """Demo only: the SMS the sandbox provider recorded for the signed-in user's number (e.g.
    a security code), so a demo customer can read it. 404 with a real SMS provider."""
    if not provider_class(Channel.SMS).sandbox:
        raise Http404
    return render(
        request,
        "notifications/sandbox_sms.html",
        {"messages_sent": list(selectors.sandbox_sms_for(user=request.user))},
    )
