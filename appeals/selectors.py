"""Reads for the portal, the API and the admin; query counts are bounded (tests assert them)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from appeals.errors import AppealNotFound
from appeals.kinds import kind_of
from appeals.models import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealAttachment,
    AppealStatus,
    AppealType,
)
from credit.models import FreezeReason
from credit.risk.models import RescoringDecision

ATTACHMENT_VIEW_PERM = "appeals.view_appealattachment"
FREEZE_REASON_LABELS = dict(FreezeReason.choices)

STEP_TITLES = {
    "submit": _("Appeal submitted"),
    "start_review": _("Review started"),
    "assign": _("Reviewer assigned"),
    "request_info": _("Information requested"),
    "answer": _("Information provided"),
    "approve_pending_confirmation": _("Approved, waiting for a second approval"),
    "decline_confirmation": _("Second approval declined; back in review"),
    "approve": _("Approved"),
    "reject": _("Rejected"),
    "withdraw": _("Withdrawn"),
    "sla_breach": _("Decision deadline missed"),
}
# Internal steps the customer does not see in their timeline.
STAFF_ONLY_STEPS = {"assign", "decline_confirmation", "sla_breach"}


def appeals_for_customer(*, customer):
    return (
        Appeal.objects.filter(customer=customer)
        .select_related("target_content_type")
        .order_by("-submitted_at", "-pk")
    )


def appeal_for_customer(*, customer, pk) -> Appeal:
    """The customer's own appeal; anyone else's, or none, is the same 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise AppealNotFound() from None
    appeal = appeals_for_customer(customer=customer).filter(pk=pk).first()
    if appeal is None:
        raise AppealNotFound()
    return appeal


def attachment_for_download(*, user, appeal_pk, attachment_pk) -> AppealAttachment:
    """The attachment if `user` owns its appeal or is staff allowed to read attachments; else 404."""
    try:
        appeal_pk, attachment_pk = int(appeal_pk), int(attachment_pk)
    except (TypeError, ValueError):
        raise AppealNotFound() from None
    queryset = AppealAttachment.objects.filter(pk=attachment_pk, appeal_id=appeal_pk)
    if not (user.is_staff and user.has_perm(ATTACHMENT_VIEW_PERM)):
        queryset = queryset.filter(appeal__customer=user)
    attachment = queryset.first()
    if attachment is None:
        raise AppealNotFound()
    return attachment


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "step" | "message" | "attachment"
    title: str
    actor: str
    side: str  # "CUSTOMER" | "STAFF" | "SYSTEM"
    body: str = ""
    attachment: AppealAttachment | None = None
    code: str = ""


def _actor_label(user_id, appeal: Appeal, users: dict, *, for_customer: bool) -> tuple[str, str]:
    if user_id is None:
        return str(_("System")), "SYSTEM"
    if user_id == appeal.customer_id:
        return (str(_("You")) if for_customer else str(users.get(user_id, ""))), "CUSTOMER"
    if for_customer:
        return str(_("Customer service")), "STAFF"
    return str(users.get(user_id, "")), "STAFF"


def appeal_timeline(*, appeal: Appeal, for_customer: bool) -> list[TimelineEntry]:
    """States (StateLog), messages and attachments merged in time order (three queries).

    The customer sees no internal step and no staff note; staff see everything.
    """
    content_type = ContentType.objects.get_for_model(Appeal)
    logs = list(
        StateLog.objects.filter(content_type=content_type, object_id=appeal.pk)
        .select_related("by")
        .order_by("timestamp", "pk")
    )
    messages = list(appeal.messages.select_related("author").order_by("created_at", "pk"))
    attachments = list(
        appeal.attachments.select_related("uploaded_by").order_by("created_at", "pk")
    )
    users = {log.by_id: str(log.by) for log in logs if log.by_id}
    users |= {m.author_id: str(m.author) for m in messages}
    users |= {a.uploaded_by_id: str(a.uploaded_by) for a in attachments}

    entries: list[TimelineEntry] = []
    for log in logs:
        if for_customer and log.transition in STAFF_ONLY_STEPS:
            continue
        actor, side = _actor_label(log.by_id, appeal, users, for_customer=for_customer)
        body = "" if for_customer else (log.description or "")
        entries.append(
            TimelineEntry(
                at=log.timestamp,
                kind="step",
                title=str(STEP_TITLES.get(log.transition, log.transition)),
                actor=actor,
                side=side,
                body=body,
                code=log.transition,
            )
        )
    for message in messages:
        actor, _side = _actor_label(message.author_id, appeal, users, for_customer=for_customer)
        entries.append(
            TimelineEntry(
                at=message.created_at,
                kind="message",
                title=str(_("Message")),
                actor=actor,
                side=message.author_side,
                body=message.body,
            )
        )
    for attachment in attachments:
        actor, side = _actor_label(
            attachment.uploaded_by_id, appeal, users, for_customer=for_customer
        )
        entries.append(
            TimelineEntry(
                at=attachment.created_at,
                kind="attachment",
                title=attachment.original_name,
                actor=actor,
                side=side,
                attachment=attachment,
            )
        )
    order = {"step": 0, "message": 1, "attachment": 2}
    entries.sort(key=lambda e: (e.at, order[e.kind]))
    return entries


def appeal_messages(*, appeal: Appeal):
    return appeal.messages.select_related("author").order_by("created_at", "pk")


def open_appeals_by_target(*, customer) -> dict[tuple[str, int, int, str], int]:
    """{(type, content type id, object id, freeze reason): appeal id} of the customer's open
    appeals (1 query; the freeze reason is "" except for a freeze appeal)."""
    rows = Appeal.objects.filter(customer=customer, status__in=OPEN_STATUSES).values_list(
        "type", "target_content_type_id", "target_object_id", "freeze_reason", "pk"
    )
    return {(t, ct, obj, cause): pk for t, ct, obj, cause, pk in rows}


def appeal_target_summary(appeal: Appeal) -> str:
    """One line describing what is appealed, for the customer (no other customer's data)."""
    target = appeal.target
    if target is None:
        return ""
    try:
        summary = kind_of(appeal).summary(target)
    except LookupError:
        return str(target)
    if appeal.freeze_reason:
        summary = str(
            _("%(summary)s — the freeze reason appealed: %(reason)s")
            % {
                "summary": summary,
                "reason": FREEZE_REASON_LABELS.get(appeal.freeze_reason, appeal.freeze_reason),
            }
        )
    return summary


def sla_state(appeal: Appeal, *, now: datetime) -> str:
    """One of: breached, paused, due_today, on_time, closed."""
    if appeal.status not in OPEN_STATUSES:
        return "closed"
    if appeal.sla_breached_at is not None or (
        appeal.status in CLOCK_RUNNING_STATUSES and appeal.due_at < now
    ):
        return "breached"
    if appeal.status == AppealStatus.NEEDS_INFO:
        return "paused"
    if timezone.localtime(appeal.due_at).date() == timezone.localtime(now).date():
        return "due_today"
    return "on_time"


def local_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def appeal_sla_summary(*, now: datetime, days: int = 30) -> dict:
    """Figures for the dashboard: open, breached, due today, per type; one aggregate query."""
    start, end = local_day_bounds(now)
    since = now - timedelta(days=days)
    running = Q(status__in=CLOCK_RUNNING_STATUSES)
    totals = Appeal.objects.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        waiting_for_customer=Count("pk", filter=Q(status=AppealStatus.NEEDS_INFO)),
        open_breached=Count(
            "pk", filter=Q(status__in=OPEN_STATUSES, sla_breached_at__isnull=False)
        ),
        # Still to be decided in time today (past-due ones count as breached).
        due_today=Count("pk", filter=running & Q(due_at__gte=max(start, now), due_at__lt=end)),
        breached_recent=Count("pk", filter=Q(sla_breached_at__gte=since)),
        decided_recent=Count("pk", filter=Q(decided_at__gte=since)),
        awaiting_confirmation=Count("pk", filter=Q(status=AppealStatus.AWAITING_CONFIRMATION)),
        **{
            f"breached_{value}": Count("pk", filter=Q(type=value, sla_breached_at__gte=since))
            for value in AppealType.values
        },
    )
    totals["by_type"] = [
        {"type": value, "label": label, "breached": totals.pop(f"breached_{value}")}
        for value, label in AppealType.choices
    ]
    totals["days"] = days
    return totals


def appeal_account_context(*, appeal: Appeal, limit: int = 10) -> dict:
    """The account beside the appeal in the admin: limit history, repayments, risk scores."""
    account = appeal.account
    context = {
        "account": account,
        "limit_changes": list(
            account.limit_changes.select_related("actor").order_by("-created_at")[:limit]
        ),
        "repayments": list(account.repayments.order_by("-received_at")[:limit]),
        "risk_decisions": _risk_decisions(account, limit),
        "other_appeals": list(
            Appeal.objects.filter(account=account)
            .exclude(pk=appeal.pk)
            .order_by("-submitted_at")[:limit]
        ),
    }
    return context


def _risk_decisions(account, limit: int) -> list:
    """The latest scores and reason codes of the nightly rescoring."""
    return list(RescoringDecision.objects.filter(account=account).order_by("-pk")[:limit])
