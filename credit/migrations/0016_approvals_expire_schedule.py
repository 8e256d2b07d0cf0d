"""Approval requests past APPROVAL_TTL_HOURS expire hourly, registered with django-celery-beat
(staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

from core.beat import periodic_task_register, periodic_task_unregister

TASK_NAME = "credit: expire approval requests"


def register(apps, schema_editor):
    periodic_task_register(
        apps,
        name=TASK_NAME,
        task="credit.approvals_expire",
        every_minutes=60,
        description="Approval requests (four eyes) not decided within APPROVAL_TTL_HOURS expire.",
    )


def unregister(apps, schema_editor):
    periodic_task_unregister(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0015_approval_requests"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
