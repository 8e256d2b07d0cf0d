"""The nightly rescoring (02:00 Asia/Shanghai) and the risk rules (every 10 minutes),
registered with django-celery-beat so staff can see and change them in the admin; the two
rule rows with their defaults; and policy v1 as an inactive draft (a risk manager reviews
and activates it: no policy is ever active without someone having activated it)."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

NIGHTLY = "risk: nightly rescoring"
RULES = "risk: risk-event rules"

BANDS = [
    {"min_score": 300, "limit": "500.00"},
    {"min_score": 450, "limit": "2000.00"},
    {"min_score": 550, "limit": "5000.00"},
    {"min_score": 650, "limit": "10000.00"},
    {"min_score": 750, "limit": "20000.00"},
    {"min_score": 850, "limit": "30000.00"},
]


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    at_two, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=NIGHTLY,
        defaults={
            "task": "risk.rescore_nightly",
            "crontab": at_two,
            "interval": None,
            "enabled": True,
            "description": "Rescores every open account and applies the limit decisions "
            "(finishes an interrupted run first). See README, Risk engine.",
        },
    )
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=RULES,
        defaults={
            "task": "risk.rules_run",
            "interval": every_ten,
            "crontab": None,
            "enabled": True,
            "description": "Evaluates the risk-event rules (shared IP, phone changes).",
        },
    )
    RiskRule = apps.get_model("risk", "RiskRule")
    RiskRule.objects.get_or_create(
        code="SHARED_IP", defaults={"threshold": 5, "window_minutes": 60, "freeze": True}
    )
    RiskRule.objects.get_or_create(
        code="PHONE_CHANGES",
        defaults={"threshold": 2, "window_minutes": 30 * 24 * 60, "freeze": False},
    )
    RiskPolicy = apps.get_model("risk", "RiskPolicy")
    if not RiskPolicy.objects.exists():
        RiskPolicy.objects.create(
            version=1,
            name="Launch policy (draft)",
            notes="Seeded draft: review the bands and caps, then activate it.",
            score_bands=BANDS,
            min_limit=Decimal("500.00"),
            max_limit=Decimal("50000.00"),
            limit_step=Decimal("100.00"),
            max_raise_amount=Decimal("10000.00"),
            max_raise_percent=Decimal("50.00"),
            max_cut_percent=Decimal("50.00"),
            raise_cooldown_days=90,
            is_active=False,
            created_at=timezone.now(),
        )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[NIGHTLY, RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
