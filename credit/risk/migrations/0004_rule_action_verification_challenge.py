"""Risk rules ask customers to verify instead of freezing them (issue #12).

- `RiskRule.action` (VERIFY / FREEZE / REVIEW_ONLY) replaces the `freeze` boolean; every
  existing rule becomes VERIFY: all three rules read behaviour only, which does not freeze.
- The shared-IP rule still at its launch defaults (5 customers in 60 minutes) moves to 20:
  carrier-grade NAT and office networks put many customers behind one address (docs/risk.md).
- The DEVICE_CHURN rule row; `VerificationChallenge`; the `risk.verifications_expire` task
  every 10 minutes (django-celery-beat).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.beat import periodic_task_register, periodic_task_unregister

EXPIRE = "risk: verification timeouts"


def forwards(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    RiskRule.objects.update(action="VERIFY")
    RiskRule.objects.filter(code="SHARED_IP", threshold=5, window_minutes=60).update(threshold=20)
    RiskRule.objects.get_or_create(
        code="DEVICE_CHURN",
        defaults={"threshold": 5, "window_minutes": 7 * 24 * 60, "action": "VERIFY"},
    )
    periodic_task_register(
        apps,
        name=EXPIRE,
        task="risk.verifications_expire",
        every_minutes=10,
        description="Freezes the accounts whose identity verification (SMS code) timed out.",
    )


def backwards(apps, schema_editor):
    periodic_task_unregister(apps, EXPIRE)
    apps.get_model("risk", "RiskRule").objects.filter(code="DEVICE_CHURN").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0010_account_verification_purchase_max"),
        ("risk", "0003_decision_fewer_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskrule",
            name="action",
            field=models.CharField(
                choices=[
                    (
                        "VERIFY",
                        "Ask the customer to verify (one-time code); freeze only on failure",
                    ),
                    ("FREEZE", "Freeze the accounts at once"),
                    ("REVIEW_ONLY", "Queue for review only"),
                ],
                default="VERIFY",
                max_length=16,
                verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="riskflag",
            name="rule",
            field=models.CharField(
                choices=[
                    ("SHARED_IP", "One network address, many accounts"),
                    ("PHONE_CHANGES", "Reserved mobile number changed repeatedly"),
                    ("DEVICE_CHURN", "Many new devices on one account"),
                ],
                max_length=32,
                verbose_name="rule",
            ),
        ),
        migrations.AlterField(
            model_name="riskrule",
            name="code",
            field=models.CharField(
                choices=[
                    ("SHARED_IP", "One network address, many accounts"),
                    ("PHONE_CHANGES", "Reserved mobile number changed repeatedly"),
                    ("DEVICE_CHURN", "Many new devices on one account"),
                ],
                max_length=32,
                unique=True,
                verbose_name="rule",
            ),
        ),
        migrations.CreateModel(
            name="VerificationChallenge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code_hash", models.CharField(max_length=128, verbose_name="code hash")),
                ("created_at", models.DateTimeField(verbose_name="opened at")),
                ("expires_at", models.DateTimeField(verbose_name="expires at")),
                (
                    "codes_sent",
                    models.PositiveSmallIntegerField(default=1, verbose_name="codes sent"),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(default=0, verbose_name="wrong codes entered"),
                ),
                (
                    "max_attempts",
                    models.PositiveSmallIntegerField(verbose_name="wrong codes allowed"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("OPEN", "Waiting for the customer"),
                            ("PASSED", "Verified"),
                            ("FAILED", "Failed (too many wrong codes)"),
                            ("EXPIRED", "Expired (not verified in time)"),
                            ("CANCELLED", "Cancelled (the flag was cleared)"),
                        ],
                        default="OPEN",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "closed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="closed at"),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="verification_challenges",
                        to="credit.creditaccount",
                    ),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "flag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="verification_challenges",
                        to="risk.riskflag",
                    ),
                ),
            ],
            options={
                "verbose_name": "verification challenge",
                "verbose_name_plural": "verification challenges",
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "OPEN")),
                        fields=["expires_at"],
                        name="verification_open_expiry",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "OPEN")),
                        fields=("account",),
                        name="verification_one_open_per_account",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="verification_expires_after_opening",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("attempts__lte", models.F("max_attempts"))),
                        name="verification_attempts_within_limit",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("closed_at__isnull", True), ("status", "OPEN")),
                            models.Q(
                                models.Q(("status", "OPEN"), _negated=True),
                                ("closed_at__isnull", False),
                            ),
                            _connector="OR",
                        ),
                        name="verification_closed_iff_not_open",
                    ),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(
            model_name="riskrule",
            name="freeze",
        ),
    ]
