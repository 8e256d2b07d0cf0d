"""The business-day close runs at 00:30 Asia/Shanghai, registered with django-celery-beat
(staff can see and change it in the admin under Periodic tasks)."""

from django.db import migrations

TASK_NAME = "servicing: close the business day"


def register(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    half_past_midnight, _created = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "servicing.close_business_day",
            "crontab": half_past_midnight,
            "interval": None,
            "kwargs": "{}",
            "enabled": True,
            "description": "Overdue, penalties, freezes, probation, temporary-limit expiry and "
            "reminders for today's business date; catches up missed days first.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("servicing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
