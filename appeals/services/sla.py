"""The decision deadline: flag appeals past due, once each, and tell the risk managers."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django_fsm_log.models import StateLog

from accounts.models import User
from accounts.roles import Role
from appeals.models import CLOCK_RUNNING_STATUSES, Appeal
from core.events import EventType, publish

# One batch: the oldest past-due appeals whose clock runs, not flagged yet, locked (rows another
# run holds are skipped, so two beat ticks overlapping never flag or notify twice).
_FLAG_SQL = """
    UPDATE appeals_appeal
       SET sla_breached_at = %(now)s
     WHERE id IN (
            SELECT id FROM appeals_appeal
             WHERE status = ANY(%(statuses)s)
               AND due_at < %(now)s
               AND sla_breached_at IS NULL
             ORDER BY due_at
             LIMIT %(batch)s
               FOR UPDATE SKIP LOCKED)
 RETURNING id, status
"""
BATCH_SIZE = 500


def risk_managers():
    return User.objects.filter(
        groups__name=Role.RISK_MANAGER, is_staff=True, is_active=True
    ).distinct()


def appeals_flag_sla_breaches(*, now: datetime, batch_size: int = BATCH_SIZE) -> list[int]:
    """Flag every appeal past its deadline whose clock is running, and tell the risk managers.

    Set-based, in batches of `batch_size`, each batch one transaction (its UPDATE, its audit
    rows and its notices commit together, so a crash loses no notice and sends none twice).
    An appeal is flagged once (`sla_breached_at IS NULL`), so running this twice changes
    nothing the second time. Appeals waiting for the customer (NEEDS_INFO) are paused and
    never flagged; their deadline moves when the customer answers.
    """
    managers = list(risk_managers())
    flagged: list[int] = []
    while True:
        batch = _flag_batch(now=now, batch_size=batch_size, managers=managers)
        flagged += batch
        if len(batch) < batch_size:
            return sorted(flagged)


@transaction.atomic
def _flag_batch(*, now: datetime, batch_size: int, managers: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            _FLAG_SQL,
            {"now": now, "statuses": list(CLOCK_RUNNING_STATUSES), "batch": batch_size},
        )
        flagged = cursor.fetchall()
    if not flagged:
        return []
    content_type = ContentType.objects.get_for_model(Appeal)
    StateLog.objects.bulk_create(
        StateLog(
            content_type=content_type,
            object_id=pk,
            transition="sla_breach",
            source_state=status,
            state=status,
            timestamp=now,
        )
        for pk, status in flagged
    )
    appeals = Appeal.objects.filter(pk__in=[pk for pk, _status in flagged]).only(
        "pk", "type", "status", "due_at", "assigned_to_id"
    )
    for appeal in appeals:
        for manager in managers:
            publish(
                event=EventType.APPEAL_SLA_BREACHED,
                user=manager,
                context={
                    "appeal_id": appeal.pk,
                    "subject": appeal.type,
                    "status": appeal.status,
                    "deadline": appeal.due_at.isoformat(),
                    "assigned_to_id": appeal.assigned_to_id,
                    "url": f"/admin/appeals/appeal/{appeal.pk}/change/",
                },
                dedupe_key=f"appeal:{appeal.pk}:sla-breached:{manager.pk}",
                now=now,
            )
    return [pk for pk, _status in flagged]
