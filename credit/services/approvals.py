"""Four eyes on exposure: requests a second, different person approves (maker-checker).

A gated service (limit_set, temporary_limit_grant, fee_schedule_activate, policy_activate,
the risk-rule change) called by a person opens a request instead of acting
(`approval_gate` / `approval_request_open`) and returns it. `approval_approve` — by someone
else holding the action's permission and `credit.decide_approvalrequest` — runs the kind's
executor in the same transaction: the executor calls the gated service again as the checker,
with the approved request, which re-validates and acts. The system (`actor=None`) is not gated.

Kinds register their executor here (`approval_kind_register`): credit's own in
credit/services/limits.py and fees.py, the risk engine's in credit/risk/approvals.py.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.permissions import permission_require
from credit.models import ApprovalRequest, ApprovalStatus
from credit.services.errors import (
    ApprovalAlreadyPending,
    ApprovalExpired,
    ApprovalMismatch,
    ApprovalNoteRequired,
    ApprovalNotPending,
    OnlyMakerMayCancel,
    SecondApproverRequired,
)

DECIDE = "credit.decide_approvalrequest"
EXCEED_POLICY_MAXIMUM = "credit.exceed_policy_limit"


@dataclass(frozen=True)
class ApprovalSpec:
    # The action's own permission: the maker needs it to ask, the checker to approve.
    permission: str
    # (*, request, actor, now) -> the reference of the row the action wrote.
    execute: Callable[..., str]
    # Who the request waits for, as the queue shows it.
    waits_for: str | Promise


_SPECS: dict[str, ApprovalSpec] = {}


def approval_kind_register(kind: str, *, permission: str, execute, waits_for) -> None:
    _SPECS[kind] = ApprovalSpec(permission=permission, execute=execute, waits_for=waits_for)


def approval_spec(kind: str) -> ApprovalSpec:
    return _SPECS[kind]


def row_reference(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    return (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("maker", "target_content_type")
        .get(pk=request.pk)
    )


def approval_request_open(
    *,
    kind: str,
    target: models.Model,
    payload: dict,
    summary: str,
    maker: User,
    now: datetime,
    reason: str = "",
) -> ApprovalRequest:
    """Record what `maker` asks for; it waits for a second person. Call inside the service's
    transaction. One pending request per kind and target (the database holds it too)."""
    permission_require(maker, _SPECS[kind].permission)
    content_type = ContentType.objects.get_for_model(target)
    waiting = ApprovalRequest.objects.filter(
        kind=kind,
        target_content_type=content_type,
        target_object_id=target.pk,
        status=ApprovalStatus.PENDING,
    )
    # One past its time no longer blocks (the beat task would expire it soon anyway).
    waiting.filter(expires_at__lte=now).update(status=ApprovalStatus.EXPIRED, decided_at=now)
    try:
        with transaction.atomic():
            return ApprovalRequest.objects.create(
                kind=kind,
                target_content_type=content_type,
                target_object_id=target.pk,
                payload=payload,
                summary=summary[:255],
                maker=maker,
                reason=reason,
                created_at=now,
                expires_at=now + timedelta(hours=settings.APPROVAL_TTL_HOURS),
            )
    except IntegrityError as exc:
        raise ApprovalAlreadyPending() from exc


def approval_gate(
    *,
    kind: str,
    target: models.Model,
    actor: User | None,
    approval: ApprovalRequest | None,
    now: datetime,
    summary: str,
    payload: dict | None = None,
    reason: str = "",
) -> ApprovalRequest | None:
    """The top of a gated service: None when it may act now (the system acting, or the checker
    executing an approved request), else the request that now waits."""
    if actor is None:
        return None
    if approval is not None:
        approval_execution_check(approval, kind=kind, target=target, actor=actor)
        return None
    return approval_request_open(
        kind=kind,
        target=target,
        payload=payload or {},
        summary=summary,
        maker=actor,
        now=now,
        reason=reason,
    )


def approval_execution_check(
    approval: ApprovalRequest, *, kind: str, target: models.Model, actor: User
) -> None:
    """The approval passed to a gated service is this one, approved now by this checker."""
    if (
        approval.status != ApprovalStatus.APPROVED
        or approval.kind != kind
        or approval.checker_id != actor.pk
        or approval.target_object_id != target.pk
        or approval.target_content_type_id != ContentType.objects.get_for_model(target).pk
    ):
        raise ApprovalMismatch()


def _decidable(request: ApprovalRequest, *, actor: User, now: datetime) -> ApprovalSpec:
    spec = _SPECS[request.kind]
    permission_require(actor, DECIDE)
    permission_require(actor, spec.permission)
    if request.status != ApprovalStatus.PENDING:
        raise ApprovalNotPending()
    if request.expires_at <= now:
        raise ApprovalExpired()
    if request.maker_id == actor.pk:
        raise SecondApproverRequired()
    return spec


@transaction.atomic
def approval_approve(
    *, request: ApprovalRequest, actor: User, now: datetime, note: str = ""
) -> ApprovalRequest:
    """A second person approves: the action runs now, as the checker, re-validated; exactly once
    (the row is locked and must still be pending). A refusal of the action leaves it pending."""
    request = _lock(request)
    spec = _decidable(request, actor=actor, now=now)
    request.status, request.checker, request.decided_at = ApprovalStatus.APPROVED, actor, now
    request.note = note.strip()
    request.save(update_fields=["status", "checker", "decided_at", "note"])
    request.outcome = spec.execute(request=request, actor=actor, now=now)[:100]
    request.save(update_fields=["outcome"])
    return request


@transaction.atomic
def approval_reject(
    *, request: ApprovalRequest, actor: User, now: datetime, note: str
) -> ApprovalRequest:
    """A second person refuses it (with a reason); nothing changes."""
    if not note.strip():
        raise ApprovalNoteRequired()
    request = _lock(request)
    _decidable(request, actor=actor, now=now)
    request.status, request.checker, request.decided_at = ApprovalStatus.REJECTED, actor, now
    request.note = note.strip()
    request.save(update_fields=["status", "checker", "decided_at", "note"])
    return request


@transaction.atomic
def approval_cancel(
    *, request: ApprovalRequest, actor: User, now: datetime, note: str = ""
) -> ApprovalRequest:
    """The maker withdraws the request."""
    request = _lock(request)
    if request.maker_id != actor.pk:
        raise OnlyMakerMayCancel()
    if request.status != ApprovalStatus.PENDING:
        raise ApprovalNotPending()
    request.status, request.decided_at, request.note = ApprovalStatus.CANCELLED, now, note.strip()
    request.save(update_fields=["status", "decided_at", "note"])
    return request


@transaction.atomic
def approvals_expire(*, now: datetime) -> int:
    """Requests nobody decided in time expire (hourly beat task; idempotent)."""
    return ApprovalRequest.objects.filter(
        status=ApprovalStatus.PENDING, expires_at__lte=now
    ).update(status=ApprovalStatus.EXPIRED, decided_at=now)


def approval_tag(request: ApprovalRequest) -> str:
    """For the audit note of the executed action: which request, who asked."""
    return f"[approval #{request.pk}: requested by {request.maker}, approved by {request.checker}]"


def approval_waits_for(request: ApprovalRequest) -> str:
    """Who may approve it, in words (the queue and the maker's message)."""
    if request.payload.get("over_policy_maximum"):
        return str(gettext_lazy("a second risk manager"))
    return str(_SPECS[request.kind].waits_for)


def approval_sent_message(request: ApprovalRequest) -> str:
    """What staff read when their action became a request instead of acting."""
    return _("sent for approval to %(whom)s (request #%(id)s): %(summary)s") % {
        "whom": approval_waits_for(request),
        "id": request.pk,
        "summary": request.summary,
    }
