"""A run interrupted half way resumes where it stopped and applies nothing twice: a chunk's
writes and its progress stamp commit together. Proved by raising inside a chunk, and by
killing a real `manage.py rescore` process mid-run."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from conftest import subprocess_env
from credit.models import LimitChange, LimitChangeKind
from credit.risk import runs
from credit.risk.models import PendingLimitDecrease, RescoringChunk, RunStatus
from credit.risk.runs import run_execute, run_plan, runs_unfinished
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, assert_invariants, bands
from testkit import reload
from testkit.credit import open_account
from testkit.events import capture_events

D = Decimal
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def accounts(settings):
    """Eight accounts, alternately raised (10 000 → 12 000) and deeply cut (announced)."""
    settings.RISK_BREAKER_CUT_PERCENT = 100
    active_policy(score_bands=bands((300, "12000")))
    made = []
    for n in range(8):
        made.append(
            open_account(base_limit="10000.00" if n % 2 == 0 else "20000.00", now=OPENED_AT)
        )
    return made


def assert_applied_exactly_once(run, accounts):
    changes = Counter(
        LimitChange.objects.filter(run_id=run.pk, kind=LimitChangeKind.RESCORE).values_list(
            "account_id", flat=True
        )
    )
    assert changes == Counter({a.pk: 1 for i, a in enumerate(accounts) if i % 2 == 0})
    announced = Counter(PendingLimitDecrease.objects.values_list("account_id", flat=True))
    assert announced == Counter({a.pk: 1 for i, a in enumerate(accounts) if i % 2 == 1})
    for i, account in enumerate(accounts):
        expected = D("12000.00") if i % 2 == 0 else D("20000.00")
        assert reload(account).base_limit == expected
    assert_invariants()


@pytest.mark.django_db
def test_a_run_that_crashed_applying_a_chunk_resumes_without_applying_anything_twice(
    accounts, monkeypatch
):
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT, chunk_size=2)
    real_apply = runs.chunk_apply

    def crash_on_third_chunk(*, run, chunk, now):
        counts = real_apply(run=run, chunk=chunk, now=now)  # its writes are made, then...
        if chunk.number == 3:
            raise ConnectionError("database connection lost")
        return counts

    monkeypatch.setattr(runs, "chunk_apply", crash_on_third_chunk)
    with capture_events() as first_events, pytest.raises(ConnectionError):
        run_execute(run=run, now=RUN_AT)
    run = reload(run)
    assert (run.status, run.attempts) == (RunStatus.RUNNING, 1)
    assert "database connection lost" in run.last_error
    assert list(run.chunks.order_by("number").values_list("applied_at", flat=True)) == [
        RUN_AT,
        RUN_AT,
        None,
        None,
    ]
    # Chunk 3's writes were rolled back with its stamp; the events of chunks 1–2 stay.
    assert LimitChange.objects.filter(run_id=run.pk).count() == 2
    assert list(runs_unfinished()) == [run]

    monkeypatch.setattr(runs, "chunk_apply", real_apply)
    with capture_events() as second_events:
        run = run_execute(run=run, now=RUN_AT)
    assert run.status == RunStatus.APPLIED
    assert_applied_exactly_once(run, accounts)
    # Chunks 1–3 published 2 events each (chunk 3's rolled back with it); the resumed
    # execution published chunks 3–4 again, never anything of chunks 1–2.
    assert len(first_events) == 6 and len(second_events) == 4
    committed_first = {e.dedupe_key for e in first_events[:4]}
    assert not committed_first & {e.dedupe_key for e in second_events}


@pytest.mark.django_db
def test_a_run_that_crashed_while_scoring_resumes_from_the_next_chunk(accounts, monkeypatch):
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT, chunk_size=3)
    real_decide = runs.chunk_decide

    def crash_on_second(**kwargs):
        if kwargs["lo"] > accounts[2].pk:
            raise TimeoutError("statement timeout")
        return real_decide(**kwargs)

    monkeypatch.setattr(runs, "chunk_decide", crash_on_second)
    with pytest.raises(TimeoutError):
        run_execute(run=run, now=RUN_AT)
    assert run.decisions.count() == 3
    monkeypatch.setattr(runs, "chunk_decide", real_decide)
    run = run_execute(run=run, now=RUN_AT)
    assert run.status == RunStatus.APPLIED and run.decisions.count() == 8
    assert_applied_exactly_once(run, accounts)


@pytest.mark.django_db
def test_a_run_failing_again_and_again_ends_failed(accounts, monkeypatch, settings):
    settings.RISK_RUN_MAX_ATTEMPTS = 2
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT, chunk_size=4)

    def always(**kwargs):
        raise RuntimeError("bad model")

    monkeypatch.setattr(runs, "chunk_decide", always)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            run_execute(run=run, now=RUN_AT)
    run = reload(run)
    assert run.status == RunStatus.FAILED and run.attempts == 2
    assert not runs_unfinished().exists()


def _applied_chunks(run_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM risk_rescoringchunk WHERE run_id = %s AND applied_at IS NOT NULL",
            [run_id],
        )
        return cursor.fetchone()[0]


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_a_killed_rescore_process_resumes_on_restart_without_double_effects(accounts):
    # Planned here (the thresholds of this test's settings are recorded on the run), executed
    # by a real `manage.py rescore` process that is killed half way, then restarted.
    run = run_plan(as_of=RUN_AT.date(), now=RUN_AT, chunk_size=1)
    command = [sys.executable, "manage.py", "rescore", "--resume-only"]
    process = subprocess.Popen(
        [*command, "--throttle", "0.4"],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while _applied_chunks(run.pk) < 2:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the run never got half way"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    run = reload(run)
    assert run.status == RunStatus.RUNNING and 2 <= _applied_chunks(run.pk) < 8

    resumed = subprocess.run(
        command,
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming run {run.pk}" in resumed.stdout
    run = reload(run)
    assert run.status == RunStatus.APPLIED
    assert not RescoringChunk.objects.filter(run=run, applied_at__isnull=True).exists()
    assert_applied_exactly_once(run, accounts)
