"""Every setting is declared once, in config/settings/base.py, and can come from the
environment (a deployment changes a rule without code): checked in a fresh process."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from config.settings.test import checkout_tag
from conftest import ROOT, subprocess_env

FROM_ENVIRONMENT = {
    "APPEALS_SLA_HOURS": ("72", 72),
    "APPEALS_SECOND_APPROVAL_ABOVE": ("15000.00", "Decimal('15000.00')"),
    "SERVICING_PROBATION_CAP_RATIO": ("0.40", "Decimal('0.40')"),
    "SERVICING_FREEZE_DAYS_PAST_DUE": ("5", 5),
    "RISK_COOLING_OFF_CUT_PERCENT": ("25", "Decimal('25')"),
    "RISK_CHUNK_SIZE": ("1000", 1000),
    "CREDIT_PAYMENT_CODE_TTL_SECONDS": ("120", 120),
    "NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS": ("12", 12),
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


NAMES_OF_THE_CHECKOUT = """
import json
from django.conf import settings
print(json.dumps({
    "test_database": settings.DATABASES["default"].get("TEST", {}).get("NAME"),
    "e2e_database": settings.E2E_DATABASE,
    "cache_prefix": settings.CACHES["default"]["KEY_PREFIX"],
    "broker_prefix": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"],
}))
"""


def _names_in(checkout: Path, **env) -> dict:
    """The names the test settings of `checkout` choose, with only `env` set of their
    variables (a fresh process: settings are read once per process)."""
    clean = {k: v for k, v in subprocess_env().items() if k not in CHECKOUT_VARIABLES}
    done = subprocess.run(
        [sys.executable, "-c", NAMES_OF_THE_CHECKOUT],
        cwd=checkout,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


CHECKOUT_VARIABLES = {"DATABASE_URL", "E2E_DATABASE", "PYTEST_XDIST_WORKER"}


def test_the_checkout_tag_is_a_short_stable_digest_of_the_checkout_path():
    tag = checkout_tag(Path("/home/li/creditline"))
    assert tag == checkout_tag(Path("/home/li/creditline"))
    assert re.fullmatch(r"[0-9a-f]{8}", tag)
    assert tag != checkout_tag(Path("/home/li/creditline-review"))


def test_two_checkouts_on_one_machine_name_their_databases_and_redis_keys_apart(tmp_path):
    for clone in ("one", "two"):
        shutil.copytree(ROOT / "config", tmp_path / clone / "config")

    one, two = _names_in(tmp_path / "one"), _names_in(tmp_path / "two")

    tag = checkout_tag(tmp_path / "one")
    assert one == {
        "test_database": f"test_creditline_{tag}",
        "e2e_database": f"creditline_e2e_{tag}",
        "cache_prefix": f"test-{tag}-main",
        "broker_prefix": f"test-{tag}-main:",
    }
    assert all(one[name] != two[name] for name in one)


def test_an_explicit_database_url_or_e2e_database_still_wins_and_xdist_workers_keep_apart():
    chosen = _names_in(
        ROOT,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/mine",
        E2E_DATABASE="my_e2e",
        PYTEST_XDIST_WORKER="gw1",
    )
    assert chosen["test_database"] is None  # Django's own test_mine
    assert chosen["e2e_database"] == "my_e2e"
    assert chosen["cache_prefix"] == f"test-{checkout_tag(ROOT)}-gw1"
