"""Idempotency keys past their retention are purged nightly at 03:15 Asia/Shanghai, registered
with django-celery-beat (staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

from core.beat import periodic_task_register, periodic_task_unregister

TASK_NAME = "credit: purge expired idempotency keys"


def register(apps, schema_editor):
    periodic_task_register(
        apps,
        name=TASK_NAME,
        task="credit.idempotency_records_purge",
        daily_at="03:15",
        description="Deletes API idempotency records older than IDEMPOTENCY_KEY_TTL_HOURS "
        "(never less than 24 hours).",
    )


def unregister(apps, schema_editor):
    periodic_task_unregister(apps, TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0004_installment_servicing_fields"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
