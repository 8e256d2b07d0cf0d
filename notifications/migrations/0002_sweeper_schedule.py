"""The outbox sweeper runs every minute, registered with django-celery-beat (staff can see and
change it in the admin under Periodic tasks)."""

from django.db import migrations

from core.beat import periodic_task_register, periodic_task_unregister

TASK_NAME = "notifications: sweep the outbox"


def register(apps, schema_editor):
    periodic_task_register(
        apps,
        name=TASK_NAME,
        task="notifications.sweep",
        every_minutes=1,
        description="Sends due notifications the on-commit kick missed "
        "(broker down, quiet hours, retries, dead workers).",
    )


def unregister(apps, schema_editor):
    periodic_task_unregister(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
