"""Measure run_rollback on a run that cut N accounts (not collected; run explicitly):

    ROLLBACK_N=200 DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/pytest -p no:cacheprovider \
        -n 0 -s credit/risk/tests/measure_rollback.py
"""

import cProfile
import os
import pstats
import time
from decimal import Decimal

import pytest
from django.db import connection

from accounts.roles import Role
from conftest import shanghai
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, active_policy, bands
from testkit.credit import open_account
from testkit.people import staff

pytestmark = pytest.mark.django_db
RUN_AT = shanghai(2026, 6, 5, 2)
LATER = shanghai(2026, 6, 5, 7)


def test_measure(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 100
    n = int(os.environ.get("ROLLBACK_N", "20"))
    active_policy(score_bands=bands((300, "20000")), max_cut_percent=Decimal("60"))
    t0 = time.perf_counter()
    for _ in range(n):
        open_account(base_limit="22000.00", now=OPENED_AT)
    t1 = time.perf_counter()
    run = run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    t2 = time.perf_counter()
    manager = staff(Role.RISK_MANAGER)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        t3 = time.perf_counter()
        if os.environ.get("ROLLBACK_PROFILE"):
            prof = cProfile.Profile()
            prof.enable()
        report = run_rollback(run=run, actor=manager, now=LATER, note="wrong model")
        if os.environ.get("ROLLBACK_PROFILE"):
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        t4 = time.perf_counter()
    assert report["cuts_reversed_as_our_error"] == n, report
    if os.environ.get("ROLLBACK_SQL"):
        print("\n".join(q[:160] for q in queries))
    print(
        f"\nN={n} setup {t1 - t0:.1f}s run {t2 - t1:.1f}s; rollback {t4 - t3:.2f}s, "
        f"{len(queries)} queries ({len(queries) / n:.1f}/account)"
    )
