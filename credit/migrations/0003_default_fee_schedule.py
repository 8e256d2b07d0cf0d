"""The launch price list (version 1), active, so a new installation can sell at once.

Every term's worst-case annualised rate (shortest first period) is below the 24 % cap:
3 → 21.8 %, 6 → 19.9 %, 9 → 18.2 %, 12 → 17.4 %, 24 → 16.1 %.
"""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

RATES = {1: "0", 3: "0.008000", 6: "0.007500", 9: "0.007000", 12: "0.006800", 24: "0.006500"}


def create(apps, schema_editor):
    FeeSchedule = apps.get_model("credit", "FeeSchedule")
    FeeScheduleTerm = apps.get_model("credit", "FeeScheduleTerm")
    if FeeSchedule.objects.exists():
        return
    now = timezone.now()
    schedule = FeeSchedule.objects.create(
        version=1, name="Launch pricing", is_active=True, created_at=now, activated_at=now
    )
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=schedule, term_months=term, monthly_fee_rate=Decimal(rate))
        for term, rate in RATES.items()
    )


class Migration(migrations.Migration):
    dependencies = [("credit", "0002_ledger_triggers")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
