"""`{% appeal_link kind target [freeze_reason] %}`: the "Appeal this" link beside a decision.

`kind` is the key of a kind in the registry (`appeals.kinds`) or an appeal type (its default
kind); `target` is the object or its id (for a kind whose target is the account: the credit
account); `freeze_reason` names the one freeze reason a freeze appeal disputes (each freeze
cause has its own link). Renders nothing when the customer already has an open appeal on it, when the kind
is unknown, and when the target, given as an object, may not be appealed now (a limit change
that was not a decrease). The customer's open appeals are read once per request.
"""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from appeals.errors import AppealNotFound
from appeals.kinds import kind_named
from appeals.selectors import open_appeals_by_target

register = template.Library()

_CACHE_ATTR = "_appeals_open_by_target"


def _open_appeals(request) -> dict:
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = open_appeals_by_target(customer=request.user)
        setattr(request, _CACHE_ATTR, cached)
    return cached


@register.inclusion_tag("appeals/_appeal_link.html", takes_context=True)
def appeal_link(context, kind, target, freeze_reason=""):
    request = context.get("request")
    if request is None or not request.user.is_authenticated or target in (None, ""):
        return {}
    try:
        kind = kind_named(str(kind))
    except AppealNotFound:
        return {}
    if isinstance(target, models.Model):
        if kind.refusal(target, timezone.now()) is not None:
            return {}
        target_id = target.pk
    else:
        try:
            target_id = int(target)
        except (TypeError, ValueError):
            return {}
    content_type = ContentType.objects.get_for_model(kind.model)  # cached by Django
    # An open appeal of this cause, or of the whole freeze (from before reasons), hides it; a
    # link naming no cause is hidden by an open appeal of any.
    if any(
        key[:3] == (kind.appeal_type, content_type.pk, target_id)
        and (not freeze_reason or key[3] in (freeze_reason, ""))
        for key in _open_appeals(request)
    ):
        return {}
    query = {"kind": kind.key, "target": target_id}
    if freeze_reason:
        query["freeze_reason"] = freeze_reason
    query = urlencode(query)
    return {"url": f"{reverse('appeals:new')}?{query}"}
