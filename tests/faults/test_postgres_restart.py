"""PostgreSQL restarted under merchant load: no purchase lost, none made twice.

A private PostgreSQL (testkit.private_postgres, a free port, never the shared server) runs a
gunicorn and a Celery worker. Four merchant threads send authorisations, each with its own
Idempotency-Key and payment code; a quarter of the way in, the server is stopped (fast
shutdown: every connection cut), left down a moment and started again. The same gunicorn
and worker processes must then serve again (CONN_HEALTH_CHECKS drops the dead persistent
connections); every request that failed is retried with its key until it gets an answer.
"""

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from config.celery import app
from conftest import WorkerProcess
from testkit.private_postgres import PrivatePostgres, django_env
from testkit.servers import gunicorn_running

pytestmark = [pytest.mark.fault, pytest.mark.worker]

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 80
THREADS = 4
PACE = 0.15  # seconds a merchant thread spends per request at least (answered fast or not)
ACCOUNTS = 6
DOWN_SECONDS = 1.5
NO_QUIET_HOURS = {"NOTIFICATIONS_QUIET_START": "00:00", "NOTIFICATIONS_QUIET_END": "00:00"}

SEED = """
import json
from collections import Counter
from django.utils import timezone
from credit.services.merchants import merchant_create, payment_code_issue
from testkit.credit import open_account

now = timezone.now()
merchant, key = merchant_create(name="Fault shop", now=now)
accounts = [open_account("50000.00") for _ in range({accounts})]
codes = [payment_code_issue(account=accounts[n % len(accounts)], now=now).code
         for n in range({requests})]
print(json.dumps({{"key": key, "codes": codes}}))
"""


@dataclass
class Call:
    key: str
    code: str
    sent_at: float = 0.0
    answers: list[tuple[int, str, bytes]] = field(default_factory=list)

    @property
    def last(self) -> tuple[int, str, bytes]:
        return self.answers[-1]

    @property
    def purchase_id(self) -> int | None:
        status, _type, body = self.last
        return json.loads(body)["id"] if status == 201 else None


def authorise(base_url: str, api_key: str, call: Call) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        f"{base_url}/api/v1/merchant/purchases/",
        data=json.dumps({"payment_code": call.code, "amount": "100.00", "term": 3}).encode(),
        headers={
            "Authorization": f"Api-Key {api_key}",
            "Idempotency-Key": call.key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            answer = (response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as error:
        answer = (error.code, error.headers.get("Content-Type", ""), error.read())
    except OSError as error:  # connection reset, timeout: no answer at all
        answer = (0, "", repr(error).encode())
    call.answers.append(answer)
    return answer[0]


def run(command: list[str], database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=django_env(database_url, **NO_QUIET_HOURS),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def private_database():
    with PrivatePostgres() as pg:
        url = pg.create_database("faults")
        pg.migrate(url)
        yield pg, url


@pytest.fixture
def web(private_database):
    _pg, url = private_database
    env = django_env(url, **NO_QUIET_HOURS)
    with gunicorn_running(env, name="fault", workers=2) as running:
        yield running


def test_a_postgresql_restart_under_merchant_load_loses_no_purchase_and_makes_none_twice(
    private_database, web, celery_queue_purged
):
    pg, url = private_database
    base_url, gunicorn = web
    # The worker starts while the data is seeded (each takes a few seconds).
    worker = WorkerProcess(concurrency=2, extra_env={"DATABASE_URL": url, **NO_QUIET_HOURS})
    try:
        seeded = run(["shell", "-c", SEED.format(accounts=ACCOUNTS, requests=REQUESTS)], url)
        assert seeded.returncode == 0, seeded.stderr
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        worker.wait_ready()
        web_pids = {p.pid for p in psutil.Process(gunicorn.pid).children()}
        calls = [Call(key=uuid.uuid4().hex, code=code) for code in seed["codes"]]
        done, lock = [], threading.Lock()

        def send(call: Call) -> None:
            call.sent_at = time.monotonic()
            authorise(base_url, seed["key"], call)
            time.sleep(max(0.0, call.sent_at + PACE - time.monotonic()))
            with lock:
                done.append(call)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(send, call) for call in calls]
            while len(done) < REQUESTS // 4:
                time.sleep(0.02)
            pg.stop("fast")
            time.sleep(DOWN_SECONDS)
            pg.start()
            back_at = time.monotonic()
            for future in futures:
                future.result()
        load_seconds = time.monotonic() - started

        failed = [call for call in calls if call.last[0] != 201]
        # What the failed requests got (status, content type), for the assertion messages.
        failures = Counter(f"{c.last[0]} {c.last[1] or '-'}" for c in failed)
        # Without failures the restart proved nothing: the load must have hit it.
        assert failed, "no request met the restart"
        # The API contract: while the database is away the answer is a JSON 503 the client
        # can retry (or no answer at all, when the connection itself was cut).
        for call in failed:
            status, content_type, body = call.last
            assert status == 0 or (
                status == 503
                and content_type.startswith("application/json")
                and json.loads(body)["code"] == "service_unavailable"
            ), (call.last, failures)
        deadline = time.monotonic() + 60
        for call in failed:
            while authorise(base_url, seed["key"], call) != 201:
                assert call.last[0] in (0, 503), (call.last, failures)
                assert time.monotonic() < deadline, (call.answers, failures)
                time.sleep(0.3)

        # Every key ended with one purchase, a different one per key, and no other purchase.
        ids = [call.purchase_id for call in calls]
        assert len(set(ids)) == REQUESTS, failures
        with pg.connect("faults") as conn:
            purchases = {row[0] for row in conn.execute("SELECT id FROM credit_purchase")}
            records = dict(
                conn.execute(
                    "SELECT key, (response_body->>'id')::bigint FROM credit_idempotencyrecord "
                    "WHERE response_status = 201"
                ).fetchall()
            )
        assert purchases == set(ids), failures
        assert records == {call.key: call.purchase_id for call in calls}, failures
        # The app recovered by itself: requests sent after the restart succeeded at once, from
        # the same web workers; the Celery worker is alive.
        assert any(c.sent_at > back_at and c.answers[0][0] == 201 for c in calls), failures
        assert {p.pid for p in psutil.Process(gunicorn.pid).children()} == web_pids
        assert worker.process.poll() is None

        # Each purchase's confirmation is in the outbox once and is sent once.
        deadline = time.monotonic() + 45
        while True:
            app.send_task("notifications.sweep")
            with pg.connect("faults") as conn:
                waiting = conn.execute(
                    "SELECT count(*) FROM notifications_notification "
                    "WHERE status IN ('PENDING', 'SENDING', 'FAILED')"
                ).fetchone()[0]
                confirmed = conn.execute(
                    "SELECT count(DISTINCT dedupe_key), count(*) FILTER (WHERE channel = 'IN_APP')"
                    " FROM notifications_notification WHERE event = 'PURCHASE_CONFIRMED'"
                ).fetchone()
                resent = conn.execute(
                    "SELECT count(*) FROM notifications_sandboxsms WHERE calls > 1"
                ).fetchone()[0]
            if waiting == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert confirmed == (REQUESTS, REQUESTS)
        assert (waiting, resent) == (0, 0)

        checked = run(["check_ledger"], url)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        print(
            f"\n{REQUESTS} authorisations in {load_seconds:.1f} s; PostgreSQL down "
            f"{DOWN_SECONDS} s; {len(failed)} failed and were retried: "
            + "; ".join(f"{n} × {answer}" for answer, n in failures.items())
        )
    finally:
        worker.stop()
