"""Celery beat schedules registered by data migrations in django-celery-beat's tables, so staff
see and change them in the admin under Periodic tasks. Migrations call these with their
historical `apps`: keep the signatures stable."""

TIME_ZONE = "Asia/Shanghai"


def periodic_task_register(
    apps,
    *,
    name: str,
    task: str,
    description: str,
    every_minutes: int | None = None,
    daily_at: str | None = None,
) -> None:
    """Run `task` every `every_minutes`, or daily at `daily_at` ("HH:MM", Asia/Shanghai).

    Re-registering a name updates it; schedule rows are shared (looked up, created if absent).
    """
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if daily_at is not None:
        hour, minute = (str(int(part)) for part in daily_at.split(":"))
        when = {"minute": minute, "hour": hour, "day_of_week": "*", "day_of_month": "*"}
        when |= {"month_of_year": "*", "timezone": TIME_ZONE}
        schedule = {"crontab": _shared(apps, "CrontabSchedule", when), "interval": None}
    else:
        when = {"every": every_minutes, "period": "minutes"}
        schedule = {"interval": _shared(apps, "IntervalSchedule", when), "crontab": None}
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": task, **schedule, "enabled": True, "description": description},
    )


def periodic_task_unregister(apps, *names: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


def _shared(apps, model_name: str, fields: dict):
    # The schedule tables have no unique constraint: take any equal row rather than
    # get_or_create, which fails once two exist.
    model = apps.get_model("django_celery_beat", model_name)
    return model.objects.filter(**fields).first() or model.objects.create(**fields)
