"""What a customer does: submit an appeal, answer a request for information, write, withdraw."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from appeals.attachments import attachments_check
from appeals.errors import (
    AppealAlreadyOpen,
    AppealTransitionRefused,
    ReasonTooShort,
    TooManyAppeals,
)
from appeals.kinds import target_resolve
from appeals.models import OPEN_STATUSES, Appeal, AppealStatus, MessageAuthor
from appeals.services.common import (
    appeal_lock_for_customer,
    attachments_store,
    log_step,
    message_write,
    notify_customer,
)
from core.events import EventType
from credit.services import status_log_stamp

MAX_TEXT = 4000


def _clean_text(text: str, *, minimum: int = 1) -> str:
    text = (text or "").strip()
    if len(text) < minimum:
        if minimum > 1:
            raise ReasonTooShort(
                _("Please explain in at least %(n)d characters why you ask for this.")
                % {"n": minimum}
            )
        raise ReasonTooShort()
    if len(text) > MAX_TEXT:
        raise ReasonTooShort(_("Please keep it under %(n)d characters.") % {"n": MAX_TEXT})
    return text


@transaction.atomic
def appeal_submit(
    *,
    customer: User,
    kind: str,
    target_id: int,
    reason: str,
    files=(),
    now: datetime,
    freeze_reason: str = "",
) -> Appeal:
    """Open an appeal against one of the customer's own decisions.

    `kind` is the key of a kind in the registry (`appeals.kinds`) or an appeal type meaning
    its default kind. A freeze appeal disputes one freeze reason (`freeze_reason`; without
    it, the account's only appealable one), which must still hold the account frozen.
    Refusals write nothing: foreign or unknown target (404), not appealable now, an open
    appeal on the same target, more than the daily number of appeals, a short reason, a
    wrong file.
    """
    # Serialise this customer's submissions: the daily count and the one-open check are
    # then race-free (the partial unique constraint backs up the second).
    customer = User.objects.select_for_update().get(pk=customer.pk)
    target_kind, target = target_resolve(key=kind, target_id=target_id, customer=customer, now=now)
    freeze_reason = target_kind.freeze_reason_for(target, (freeze_reason or "").strip())
    reason = _clean_text(reason, minimum=target_kind.min_reason or 1)
    checked = attachments_check(files, already=0)
    content_type = ContentType.objects.get_for_model(target)
    if Appeal.objects.filter(
        type=target_kind.appeal_type,
        target_content_type=content_type,
        target_object_id=target.pk,
        freeze_reason__in={freeze_reason, ""},  # "": a whole-freeze appeal from before reasons
        status__in=OPEN_STATUSES,
    ).exists():
        raise AppealAlreadyOpen()
    recent = Appeal.objects.filter(
        customer=customer, submitted_at__gt=now - timedelta(hours=24)
    ).count()
    if recent >= settings.APPEALS_MAX_NEW_PER_24H:
        raise TooManyAppeals()

    appeal = Appeal(
        customer=customer,
        account=target_kind.account_of(target),
        type=target_kind.appeal_type,
        target_content_type=content_type,
        target_object_id=target.pk,
        freeze_reason=freeze_reason,
        reason=reason,
        submitted_at=now,
    )
    appeal.due_at = appeal.compute_due_at()
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError:
        raise AppealAlreadyOpen() from None
    log_step(appeal, transition="submit", by=customer, now=now)
    attachments_store(appeal, checked, uploaded_by=customer, now=now)
    notify_customer(
        appeal,
        event=EventType.APPEAL_RECEIVED,
        now=now,
        key="received",
        respond_by=timezone.localtime(appeal.due_at).date().isoformat(),
        due_at=appeal.due_at.isoformat(),
    )
    return appeal


@transaction.atomic
def appeal_answer(*, appeal: Appeal, customer: User, text: str, files=(), now: datetime) -> Appeal:
    """The customer answers a request for information: NEEDS_INFO → IN_REVIEW, clock resumes."""
    appeal = appeal_lock_for_customer(appeal, customer)
    if appeal.status != AppealStatus.NEEDS_INFO:
        raise AppealTransitionRefused(_("This appeal is not waiting for your information."))
    text = _clean_text(text)
    checked = attachments_check(files, already=appeal.attachments.count())
    message = message_write(
        appeal, author=customer, side=MessageAuthor.CUSTOMER, body=text, now=now
    )
    appeal.answer(at=now, by=customer, description="")
    appeal.save()
    status_log_stamp(appeal, now)
    attachments_store(appeal, checked, uploaded_by=customer, now=now, message=message)
    return appeal


@transaction.atomic
def appeal_withdraw(*, appeal: Appeal, customer: User, now: datetime, note: str = "") -> Appeal:
    """The customer takes the appeal back; allowed until a decision has taken effect."""
    appeal = appeal_lock_for_customer(appeal, customer)
    if appeal.status not in OPEN_STATUSES:
        raise AppealTransitionRefused(_("This appeal is already closed."))
    appeal.withdraw(at=now, by=customer, description=(note or "").strip())
    appeal.save()
    status_log_stamp(appeal, now)
    return appeal
