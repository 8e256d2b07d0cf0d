"""Idempotency keys past their retention are purged nightly at 03:15 Asia/Shanghai, registered
with django-celery-beat (staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

TASK_NAME = "credit: purge expired idempotency keys"


def register(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _created = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "credit.idempotency_records_purge",
            "crontab": nightly,
            "interval": None,
            "kwargs": "{}",
            "enabled": True,
            "description": "Deletes API idempotency records older than IDEMPOTENCY_KEY_TTL_HOURS "
            "(never less than 24 hours).",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0004_installment_servicing_fields"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
