"""Flag appeals past their decision deadline every 15 minutes, registered with
django-celery-beat (staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

from core.beat import periodic_task_register, periodic_task_unregister

TASK_NAME = "appeals: flag SLA breaches"


def register(apps, schema_editor):
    periodic_task_register(
        apps,
        name=TASK_NAME,
        task="appeals.flag_sla_breaches",
        every_minutes=15,
        description="Marks open appeals past their decision deadline as breached "
        "(once each) and tells the risk managers.",
    )


def unregister(apps, schema_editor):
    periodic_task_unregister(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
