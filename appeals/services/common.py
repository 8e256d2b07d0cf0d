"""Helpers shared by the appeal services: locking, permission checks, audit rows, notices."""

from datetime import datetime

from django.db import IntegrityError
from django.urls import reverse
from django_fsm_log.models import StateLog

from appeals.attachments import CheckedFile, as_django_file
from appeals.errors import AppealNotFound
from appeals.models import Appeal, AppealAttachment, AppealMessage
from core.events import publish


def appeal_lock(appeal: Appeal | int) -> Appeal:
    """Re-read the appeal with a row lock: every change of an appeal goes through this."""
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    try:
        return Appeal.objects.select_for_update().get(pk=pk)
    except Appeal.DoesNotExist:
        raise AppealNotFound() from None


def appeal_lock_for_customer(appeal: Appeal | int, customer) -> Appeal:
    locked = appeal_lock(appeal)
    if locked.customer_id != customer.pk:
        raise AppealNotFound()
    return locked


def log_step(
    appeal: Appeal, *, transition: str, by, now: datetime, description: str = "", source=None
) -> StateLog:
    """An audit row for a step that is not an FSM transition (submission, assignment)."""
    return StateLog.objects.create(
        content_object=appeal,
        transition=transition,
        source_state=source,
        state=appeal.status,
        by=by,
        timestamp=now,
        description=description or None,
    )


def message_write(appeal: Appeal, *, author, side: str, body: str, now) -> AppealMessage:
    return AppealMessage.objects.create(
        appeal=appeal, author=author, author_side=side, body=body, created_at=now
    )


def attachments_store(
    appeal: Appeal,
    checked: list[CheckedFile],
    *,
    uploaded_by,
    now,
    message: AppealMessage | None = None,
) -> list[AppealAttachment]:
    """Write checked files to private storage and their rows; remove the files on failure."""
    stored: list[AppealAttachment] = []
    try:
        for item in checked:
            attachment = AppealAttachment(
                appeal=appeal,
                message=message,
                uploaded_by=uploaded_by,
                original_name=item.original_name,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
                created_at=now,
            )
            attachment.file.save("upload", as_django_file(item), save=False)
            stored.append(attachment)
        AppealAttachment.objects.bulk_create(stored)
    except (IntegrityError, OSError):
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def notify_customer(appeal: Appeal, *, event: str, now, key: str, **context) -> None:
    """The customer's notice; the variables follow notifications.catalogue's contract."""
    publish(
        event=event,
        user=appeal.customer,
        context={
            "appeal_id": appeal.pk,
            "subject": appeal.type,
            "status": appeal.status,
            "url": reverse("appeals:detail", args=[appeal.pk]),
            **context,
        },
        dedupe_key=f"appeal:{appeal.pk}:{key}",
        now=now,
    )
