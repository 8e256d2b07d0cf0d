"""End to end: a real gunicorn (production settings) on its own PostgreSQL database.

The database `settings.E2E_DATABASE` (`creditline_e2e_<checkout tag>`) is rebuilt from empty
and migrated; the demo data is seeded through the services in a subprocess; then customers
(each signing in for an API token with phone + password) and the demo merchant work over
HTTP — purchases (by payment code and from the customer app), an idempotent replay, repayments, a refund, an early payoff, a limit cut that sends an account
NEGATIVE and repayments that restore it, and a burst of simultaneous purchases. Finally
`manage.py check_ledger` must exit 0 on that database. The database is left in place:
`.ci/run` runs check_ledger on it again after the whole suite.
"""

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from accounts.demo import DEMO_PASSWORD
from core.throttles import KEY_PREFIX as THROTTLE_KEY_PREFIX
from credit.demo import DEMO_MERCHANT_KEY
from testkit.servers import gunicorn_running

ROOT = Path(__file__).resolve().parent.parent
# Named after the checkout (config/settings/test.py); .ci/run checks this one.
E2E_DB = settings.E2E_DATABASE
# The server's cache keys (rate limits) live apart from any other run's on the shared Redis.
E2E_CACHE_PREFIX = E2E_DB
D = Decimal


def _server_url(db_name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db_name}"


def _env(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        # Notices are queued on this test run's own broker and Redis database; no worker runs.
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CACHE_KEY_PREFIX": E2E_CACHE_PREFIX,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shell(env: dict, code: str) -> dict:
    """Run Python in `manage.py shell` on the e2e database; it prints one JSON line last."""
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _reset_database() -> None:
    """An empty database: the schema is dropped if it exists (no DROP DATABASE, whose
    cluster-wide barrier can wait a long time behind another session's long query)."""
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [E2E_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{E2E_DB}"')
            return
    with psycopg.connect(_server_url(E2E_DB), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [E2E_DB],
        )
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _throttle_history_clear() -> None:
    """The rate limits start afresh, as the database does (only this run's keys)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = list(client.scan_iter(match=f"{E2E_CACHE_PREFIX}:*:{THROTTLE_KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="module")
def e2e_env():
    _reset_database()
    _throttle_history_clear()
    env = _env(_server_url(E2E_DB))
    migrated = manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return env


@pytest.fixture(scope="module")
def server(e2e_env):
    with gunicorn_running(e2e_env, name="e2e", workers=3, timeout=60) as (base, _process):
        yield base


class Api:
    """A tiny JSON client: (status, body) for each call, errors included."""

    def __init__(self, base: str, authorization: str):
        self.base, self.authorization = base, authorization

    def call(self, method: str, path: str, body: dict | None = None, key: str | None = None):
        headers = {"Authorization": self.authorization, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if method == "POST":
            headers["Idempotency-Key"] = key or uuid.uuid4().hex
        request = urllib.request.Request(  # noqa: S310 - our own server
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def get(self, path: str):
        return self.call("GET", path)

    def post(self, path: str, body: dict, key: str | None = None):
        return self.call("POST", path, body, key)


SEED = """
import json
from decimal import Decimal
from django.utils import timezone
from accounts import demo as accounts_demo
from accounts.demo import customer_ensure
from credit import demo
from credit.models import CreditAccount, Merchant
from credit.services import account_open

now = timezone.now()
accounts_demo.seed(now=now)
logins = demo.seed(now=now)
phones = {}
for login in logins:
    if login.role.startswith("Customer"):
        phones[login.role] = login.phone
# Two fresh customers for the limit cut and the burst.
for phone, name, limit in (("13600000191", "E2E 切额", "3000.00"), ("13600000192", "E2E 并发", "500.00")):
    user = customer_ensure(phone=phone, real_name=name, now=now)
    if not CreditAccount.objects.filter(customer=user).exists():
        account_open(customer=user, base_limit=Decimal(limit), now=now)
    phones[phone] = phone
merchant = Merchant.objects.get(api_key_prefix=demo.DEMO_MERCHANT_PREFIX)
print(json.dumps({"phones": phones, "merchant_id": merchant.pk}))
"""

CUT = """
import json
from decimal import Decimal
from django.utils import timezone
from accounts.models import User
from credit.models import LimitChangeKind
from core.reasons import ReasonCode
from credit.services import limit_set

officer = User.objects.get(phone="+8613700000002")
account = User.objects.get(phone="+8613600000191").credit_account
# A cut this deep acts at once only for a listed reason (else it is announced and waits).
change = limit_set(
    account=account, new_base_limit=Decimal("1000.00"), kind=LimitChangeKind.MANUAL_OVERRIDE,
    reason_codes=[ReasonCode.CUSTOMER_REQUEST], actor=officer, note="e2e cut", now=timezone.now(),
)
print(json.dumps({"limit_change": change.pk}))
"""


def test_a_customer_journey_over_http_leaves_a_ledger_that_check_ledger_accepts(e2e_env, server):
    seeded = shell(e2e_env, SEED)
    merchant_id = seeded["merchant_id"]
    # Each customer app signs in over HTTP: phone + password → a token shown once.
    tokens = {
        who: token_get(server, seeded["phones"][who])
        for who in ("Customer (ACTIVE)", "13600000191", "13600000192")
    }
    alice = Api(server, f"Token {tokens['Customer (ACTIVE)']}")
    shop = Api(server, f"Api-Key {DEMO_MERCHANT_KEY}")

    status, account = alice.get("/api/v1/account/")
    assert (status, _status(account)) == (200, "ACTIVE"), account
    available_before = D(account["available"])

    # 1. The merchant charges the customer's payment code, 6 installments; a replay is the same.
    status, code = alice.post("/api/v1/account/payment-codes/", {})
    assert status == 201, code
    order = {"payment_code": code["code"], "amount": "1200.00", "term": 6, "description": "e2e"}
    first = shop.post("/api/v1/merchant/purchases/", order, key="e2e-order-1")
    again = shop.post("/api/v1/merchant/purchases/", order, key="e2e-order-1")
    assert first[0] == 201, first
    assert again == first
    purchase_id = first[1]["id"]

    # 2. The customer buys in the app, 3 installments.
    status, bought = alice.post(
        "/api/v1/purchases/", {"merchant_id": merchant_id, "amount": "300.00", "term": 3}
    )
    assert status == 201, bought

    # 3. Bad input is refused with a stable code and changes nothing.
    for amount, term, expected in (
        ("0", 3, "invalid_amount"),
        ("10.001", 3, "invalid_amount"),
        ("10.00", 5, "unknown_term"),
        ("50000.01", 3, "amount_above_single_purchase_maximum"),
    ):
        status, body = alice.post(
            "/api/v1/purchases/", {"merchant_id": merchant_id, "amount": amount, "term": term}
        )
        assert (status, body["code"]) == (400, expected), body

    # 4. A repayment, a partial refund, an early payoff.
    status, repaid = alice.post("/api/v1/repayments/", {"amount": "150.00"})
    assert status == 201, repaid
    status, refund = shop.post(
        f"/api/v1/merchant/purchases/{purchase_id}/refunds/", {"amount": "200.00"}
    )
    assert status == 201, refund
    status, payoff = alice.post(f"/api/v1/plans/{bought['plan_id']}/payoff/", {})
    assert status == 201, payoff

    status, account = alice.get("/api/v1/account/")
    assert status == 200
    # 1200 bought, 200 refunded, 300 bought and paid off, principal repaid from the 150.
    assert D("800.00") < available_before - D(account["available"]) < D("1000.00")

    # 5. A limit cut below what is owed: NEGATIVE, purchases refused; repayments restore it.
    bob = Api(server, f"Token {tokens['13600000191']}")
    status, body = bob.post(
        "/api/v1/purchases/", {"merchant_id": merchant_id, "amount": "2500.00", "term": 1}
    )
    assert status == 201, body
    shell(e2e_env, CUT)
    status, account = bob.get("/api/v1/account/")
    assert _status(account) == "NEGATIVE", account
    status, body = bob.post(
        "/api/v1/purchases/", {"merchant_id": merchant_id, "amount": "1.00", "term": 1}
    )
    assert (status, body["code"]) == (409, "account_negative")
    status, body = bob.post("/api/v1/repayments/", {"amount": "1500.00"})
    assert status == 201, body
    status, account = bob.get("/api/v1/account/")
    assert _status(account) == "RESTORED", account

    # 6. Eight simultaneous purchases of 100 where 500 is available: exactly five go through.
    carol = Api(server, f"Token {tokens['13600000192']}")
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(8)

    def attempt():
        barrier.wait(timeout=30)
        results.append(
            carol.post(
                "/api/v1/purchases/", {"merchant_id": merchant_id, "amount": "100.00", "term": 1}
            )
        )

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    outcomes = Counter(
        "ok" if status == 201 else body.get("code", str(status)) for status, body in results
    )
    assert outcomes == {"ok": 5, "insufficient_credit": 3}, results

    # 7. The whole book is consistent.
    checked = manage(e2e_env, "check_ledger")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Ledger OK" in checked.stdout


def token_get(server: str, phone: str) -> str:
    status, body = Api(server, "").post(
        "/api/v1/auth/token/",
        {"phone": phone, "password": DEMO_PASSWORD, "device_name": "e2e"},
    )
    assert status == 201, body
    return body["token"]


def _status(account: dict) -> str:
    status = account["status"]
    return status["code"] if isinstance(status, dict) else status
