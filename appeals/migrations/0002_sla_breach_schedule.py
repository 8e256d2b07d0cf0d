"""Flag appeals past their decision deadline every 15 minutes, registered with
django-celery-beat (staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

TASK_NAME = "appeals: flag SLA breaches"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_15 = IntervalSchedule.objects.filter(every=15, period="minutes").first()
    if every_15 is None:
        every_15 = IntervalSchedule.objects.create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "appeals.flag_sla_breaches",
            "interval": every_15,
            "enabled": True,
            "description": "Marks open appeals past their decision deadline as breached "
            "(once each) and tells the risk managers.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
