"""The decision deadline: flag appeals past due, once each, and tell the risk managers."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django_fsm_log.models import StateLog

from accounts.models import User
from accounts.roles import Role
from appeals.models import CLOCK_RUNNING_STATUSES, Appeal
from notifications.events import EventType, publish

_FLAG_SQL = """
    UPDATE appeals_appeal
       SET sla_breached_at = %(now)s
     WHERE status = ANY(%(statuses)s)
       AND due_at < %(now)s
       AND sla_breached_at IS NULL
 RETURNING id, status
"""


def risk_managers():
    return User.objects.filter(
        groups__name=Role.RISK_MANAGER, is_staff=True, is_active=True
    ).distinct()


@transaction.atomic
def appeals_flag_sla_breaches(*, now: datetime) -> list[int]:
    """One set-based UPDATE flags every appeal past its deadline whose clock is running.

    An appeal is flagged once (the `sla_breached_at IS NULL` guard), so running this twice
    changes nothing and sends nothing the second time. Appeals waiting for the customer
    (NEEDS_INFO) are paused and never flagged; their deadline moves when the customer answers.
    """
    with connection.cursor() as cursor:
        cursor.execute(_FLAG_SQL, {"now": now, "statuses": list(CLOCK_RUNNING_STATUSES)})
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
    managers = list(risk_managers())
    appeals = Appeal.objects.filter(pk__in=[pk for pk, _status in flagged]).only(
        "pk", "type", "status", "due_at", "customer_id", "assigned_to_id"
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
    return sorted(pk for pk, _status in flagged)
