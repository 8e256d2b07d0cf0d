"""The outbox sweeper runs every minute, registered with django-celery-beat (staff can see and
change it in the admin under Periodic tasks)."""

from django.db import migrations

TASK_NAME = "notifications: sweep the outbox"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "notifications.sweep",
            "interval": every_minute,
            "enabled": True,
            "description": "Sends due notifications the on-commit kick missed "
            "(broker down, quiet hours, retries, dead workers).",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
