"""The business-day close runs at 00:30 Asia/Shanghai, registered with django-celery-beat
(staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

from core.beat import periodic_task_register, periodic_task_unregister

TASK_NAME = "servicing: close the business day"


def register(apps, schema_editor):
    periodic_task_register(
        apps,
        name=TASK_NAME,
        task="servicing.close_business_day",
        daily_at="00:30",
        description="Overdue, penalties, freezes, probation, temporary-limit expiry and "
        "reminders for today's business date; catches up missed days first.",
    )


def unregister(apps, schema_editor):
    periodic_task_unregister(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
