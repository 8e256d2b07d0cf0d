"""The nightly rescoring (02:00 Asia/Shanghai) and the risk rules (every 10 minutes),
registered with django-celery-beat so staff can see and change them in the admin; the two
rule rows with their defaults; and policy v1 as an inactive draft (a risk manager reviews
and activates it: no policy is ever active without someone having activated it)."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

from core.beat import periodic_task_register, periodic_task_unregister

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
    periodic_task_register(
        apps,
        name=NIGHTLY,
        task="risk.rescore_nightly",
        daily_at="02:00",
        description="Rescores every open account and applies the limit decisions "
        "(finishes an interrupted run first). See README, Risk engine.",
    )
    periodic_task_register(
        apps,
        name=RULES,
        task="risk.rules_run",
        every_minutes=10,
        description="Evaluates the risk-event rules (shared IP, phone changes).",
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
    periodic_task_unregister(apps, NIGHTLY, RULES)


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
