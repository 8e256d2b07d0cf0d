"""Every setting is declared once, in config/settings/base.py, and can come from the
environment (a deployment changes a rule without code): checked in a fresh process."""

import json
import subprocess
import sys

from conftest import ROOT, subprocess_env

FROM_ENVIRONMENT = {
    "APPEALS_SLA_HOURS": ("72", 72),
    "APPEALS_SECOND_APPROVAL_ABOVE": ("15000.00", "Decimal('15000.00')"),
    "SERVICING_PROBATION_CAP_RATIO": ("0.40", "Decimal('0.40')"),
    "SERVICING_FREEZE_DAYS_PAST_DUE": ("5", 5),
    "RISK_COOLING_OFF_CUT_PERCENT": ("25", "Decimal('25')"),
    "RISK_CHUNK_SIZE": ("1000", 1000),
    "CREDIT_PAYMENT_CODE_TTL_SECONDS": ("120", 120),
}
READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: value if isinstance(value, int) else repr(value)
                  for name in NAMES for value in [getattr(settings, name)]}))
"""


def test_rule_settings_come_from_the_environment_typed_as_their_defaults():
    env = subprocess_env(**{name: raw for name, (raw, _) in FROM_ENVIRONMENT.items()})
    names = list(FROM_ENVIRONMENT)
    done = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS.replace("NAMES", repr(names))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {name: expected for name, (_, expected) in FROM_ENVIRONMENT.items()}
