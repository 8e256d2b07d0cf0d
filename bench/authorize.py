"""Purchase authorisations over real HTTP, beside pgbench's TPC-B-like transaction.

    make bench BENCH_ARGS="authorize"
    make bench BENCH_ARGS="authorize --duration=30 --connections=16 --workers=5"

What runs, all on this machine and the PostgreSQL server of DATABASE_URL (default the local
one on 127.0.0.1:5432):

1. a fresh database `creditline_bench_authorize`, migrated, with --accounts customers (each a credit
   line with room for every purchase), one merchant and its API key, and one payment code
   per request to be sent (a code pays for at most one purchase);
2. gunicorn with the production settings (DEBUG off, whitenoise, persistent connections,
   the Redis cache and broker as in production), only on 127.0.0.1;
3. --connections keep-alive HTTP/1.1 connections, each sending
   `POST /api/v1/merchant/purchases/` (API-key auth, a fresh Idempotency-Key, a 3-month
   plan) back to back for --warmup then --duration seconds; every answer must be 201;
4. the same rules checked afterwards: every 201 is one purchase with one idempotency record,
   balanced journal entries, an account whose outstanding principal equals its installments'
   principal; a sample of requests replayed with their keys must return the same body
   (`Idempotent-Replayed`) and create nothing;
5. pgbench's built-in TPC-B-like script on a fresh database of the same server, same client
   count and duration (scale = clients, so branch rows are not the bottleneck);
6. prints authorisations/s, p50/p99 latency, pgbench tps and their ratio against the goal
   (ratio >= 0.15 with p99 <= 50 ms), and, for scale, what the same gunicorn and client
   reach on two reads: /healthz (no database) and a merchant's GET of one purchase.

The load is bounded: it stops after --duration seconds (and --max-requests), and only
127.0.0.1 is ever contacted.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.support import free_port, pg_args, pg_env, psql, url_for

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "creditline_bench_authorize"
PGBENCH_DB = "creditline_bench_authorize_pgbench"
GOAL_RATIO = 0.15
GOAL_P99_MS = 50.0
PATH = "/api/v1/merchant/purchases/"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench authorize")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--accounts", type=int, default=256)
    parser.add_argument("--max-requests", type=int, default=40000)
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument(
        "--ceiling-seconds",
        type=float,
        default=8.0,
        help="seconds each of the two reference reads runs (0 = skip them)",
    )
    return parser.parse_args(argv)


# --- database URLs -----------------------------------------------------------------------------


def recreate_database(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')


# --- the Django side runs in child processes (production settings, the bench database) ---------


def django_env(redis_db: int) -> dict:
    redis = f"redis://127.0.0.1:6379/{redis_db}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": url_for(BENCH_DB),
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REDIS_URL": redis,
        "CELERY_BROKER_URL": redis,
        "LOG_LEVEL": "ERROR",  # not a line per warm-up 404
        "PYTHONUNBUFFERED": "1",
    }


def child(command: str, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench.authorize", "--child", command, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench child {command!r} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def child_main(argv: list[str]) -> int:
    import django

    django.setup()
    command = argv[0]
    if command == "migrate":
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        return 0
    if command == "seed":
        return _seed(accounts=int(argv[1]), codes=int(argv[2]), out=Path(argv[3]))
    if command == "verify":
        print(json.dumps(_verify()))
        return 0
    raise SystemExit(f"unknown child command {command}")


def _seed(*, accounts: int, codes: int, out: Path) -> int:
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from core.reasons import ReasonCode
    from credit.models import CreditAccount, LimitChange, LimitChangeKind
    from credit.services.merchants import merchant_create, payment_code_issue

    now = timezone.now()
    limit = Decimal("10000000.00")
    password = make_password(None)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(phone=f"+86137{n:08d}", password=password, preferred_language="zh-hans")
            for n in range(accounts)
        )
        created = CreditAccount.objects.bulk_create(
            CreditAccount(customer=user, base_limit=limit, opened_at=now) for user in users
        )
        LimitChange.objects.bulk_create(
            LimitChange(
                account=account,
                kind=LimitChangeKind.ACCOUNT_OPEN,
                old_base_limit=Decimal("0.00"),
                new_base_limit=limit,
                old_effective_limit=Decimal("0.00"),
                new_effective_limit=limit,
                reason_codes=[ReasonCode.ACCOUNT_OPENED],
                created_at=now,
            )
            for account in created
        )
        _merchant, raw_key = merchant_create(name="Bench shop", now=now)
    payment_codes = [
        payment_code_issue(account=created[n % accounts], now=now).code for n in range(codes)
    ]
    out.write_text(json.dumps({"api_key": raw_key, "codes": payment_codes}))
    return 0


def _verify() -> dict:
    from django.db import connection

    from credit.models import IdempotencyRecord, Purchase

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM (
              SELECT e.id FROM credit_journalentry e JOIN credit_journalline l ON l.entry_id = e.id
              GROUP BY e.id HAVING sum(l.debit) <> sum(l.credit)) unbalanced
            """
        )
        unbalanced = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM credit_creditaccount a
            LEFT JOIN (SELECT account_id, sum(principal - principal_refunded - principal_paid) s
                       FROM credit_installment GROUP BY account_id) i ON i.account_id = a.id
            WHERE a.outstanding_principal <> coalesce(i.s, 0)
            """
        )
        principal_mismatch = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM credit_purchase p
            WHERE (SELECT count(*) FROM credit_journalentry e
                   WHERE e.reference = 'purchase:' || p.id) < 1
            """
        )
        unposted = cursor.fetchone()[0]
    return {
        "purchases": Purchase.objects.count(),
        "idempotency_records": IdempotencyRecord.objects.count(),
        "unbalanced_entries": unbalanced,
        "principal_mismatches": principal_mismatch,
        "purchases_without_entry": unposted,
    }


def cpu_seconds(gunicorn_pid: int) -> tuple[float, float]:
    """CPU seconds so far of gunicorn's processes and of the bench database's backends."""
    import psutil

    def total(processes) -> float:
        seconds = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            seconds += times.user + times.system
        return seconds

    master = psutil.Process(gunicorn_pid)
    app = total([master, *master.children(recursive=True)])
    pids = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{BENCH_DB}'").split()
    backends = []
    for pid in pids:
        try:
            backends.append(psutil.Process(int(pid)))
        except psutil.Error:
            continue
    return app, total(backends)


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


# --- gunicorn ------------------------------------------------------------------------------------


def start_gunicorn(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--preload",
        "--log-level",
        "warning",
        "--keep-alive",
        "30",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(
                    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return process
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the load: raw HTTP/1.1 over asyncio, keep-alive, one request in flight per connection -------


def request_bytes(port: int, api_key: str, key: str, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Api-Key {api_key}\r\n"
        f"Idempotency-Key: {key}\r\n"
        # What the TLS-terminating load balancer in front of production adds.
        "X-Forwarded-Proto: https\r\n"
        "Content-Type: application/json\r\n"
        "Accept-Language: zh-hans\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader) -> tuple[int, dict, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


class Connection:
    """One client connection; reopened when the server closes it (gunicorn's sync workers
    answer `Connection: close`, gthread workers keep it alive)."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def send(self, request: bytes) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(request)
        await self.writer.drain()
        status, headers, body = await read_response(self.reader)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Load:
    def __init__(self, port, api_key, codes, warmup, duration, max_requests):
        self.port, self.api_key = port, api_key
        self.codes = iter(codes)
        self.warmup, self.duration, self.max_requests = warmup, duration, max_requests
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.sent: list[tuple[str, bytes, bytes]] = []  # (key, request body, response body)
        self.errors: list[str] = []

    def next_request(self):
        code = next(self.codes, None)
        if code is None or len(self.sent) >= self.max_requests:
            return None
        key = uuid.uuid4().hex
        body = json.dumps({"payment_code": code, "amount": "100.00", "term": 3}).encode()
        return key, body

    async def connection(self, measure_from: float, stop_at: float) -> None:
        connection = Connection(self.port)
        try:
            while time.monotonic() < stop_at:
                item = self.next_request()
                if item is None:
                    return
                key, body = item
                started = time.monotonic()
                status, _headers, response = await connection.send(
                    request_bytes(self.port, self.api_key, key, body)
                )
                elapsed = time.monotonic() - started
                self.sent.append((key, body, response))
                if started >= measure_from:
                    self.latencies.append(elapsed)
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                if status != 201 and len(self.errors) < 5:
                    self.errors.append(f"{status} {response[:300]!r}")
        finally:
            connection.close()

    async def run(self, connections: int) -> float:
        start = time.monotonic()
        measure_from = start + self.warmup
        stop_at = measure_from + self.duration
        await asyncio.gather(*(self.connection(measure_from, stop_at) for _ in range(connections)))
        return max(time.monotonic(), measure_from) - measure_from

    async def wake_workers(self, workers: int, limit: float = 120.0) -> float:
        """Bring every worker to its steady state before anything is timed.

        A fresh worker imports the URLconf, the views and the translation catalogues on its
        first request (seconds of CPU on a small machine); production workers live for days,
        so that start is not what we measure. Cheap authenticated reads (a 404 for a
        purchase that does not exist) on several connections at once reach every worker.
        """
        started = time.monotonic()
        request = (
            f"GET {PATH}999999999/ HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Api-Key {self.api_key}\r\nX-Forwarded-Proto: https\r\n\r\n"
        ).encode()

        async def poke() -> float:
            connection = Connection(self.port)
            try:
                begun = time.monotonic()
                await connection.send(request)
                return time.monotonic() - begun
            finally:
                connection.close()

        while time.monotonic() - started < limit:
            slowest = max(await asyncio.gather(*(poke() for _ in range(workers * 2))))
            if slowest < 0.25:
                break
        return time.monotonic() - started

    async def rate_of(self, request: bytes, *, connections: int, seconds: float) -> float:
        """Answers per second to the same request sent back to back on every connection."""
        answered = 0
        stop_at = time.monotonic() + seconds

        async def loop() -> None:
            nonlocal answered
            connection = Connection(self.port)
            try:
                while time.monotonic() < stop_at:
                    status, _headers, _body = await connection.send(request)
                    if status != 200:
                        raise RuntimeError(f"reference read answered {status}")
                    answered += 1
            finally:
                connection.close()

        await asyncio.gather(*(loop() for _ in range(connections)))
        return answered / seconds

    async def ceiling(self, *, connections: int, seconds: float) -> dict[str, float]:
        """What the same server and client reach on two reads: /healthz (no database) and a
        merchant's GET of one purchase (the API-key lookup and one query): the stack's
        ceiling on this machine, beside which the authorisation rate can be judged."""
        purchase_id = json.loads(self.sent[0][2])["id"]
        host = f"Host: 127.0.0.1:{self.port}\r\nX-Forwarded-Proto: https\r\n"
        health = f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode()
        read = (
            f"GET {PATH}{purchase_id}/ HTTP/1.1\r\n{host}"
            f"Authorization: Api-Key {self.api_key}\r\n\r\n"
        ).encode()
        return {
            "GET /healthz (no database)": await self.rate_of(
                health, connections=connections, seconds=seconds
            ),
            "merchant GET of a purchase (API key + 1 query)": await self.rate_of(
                read, connections=connections, seconds=seconds
            ),
        }

    async def replay(self, sample: int) -> list[str]:
        """Send a sample of requests again with their keys: same body, nothing new."""
        problems = []
        connection = Connection(self.port)
        try:
            step = max(1, len(self.sent) // sample)
            for key, body, first in self.sent[::step][:sample]:
                status, headers, again = await connection.send(
                    request_bytes(self.port, self.api_key, key, body)
                )
                if status != 201 or again != first or headers.get("idempotent-replayed") != "true":
                    problems.append(f"replay of {key}: {status} {again[:200]!r}")
        finally:
            connection.close()
        return problems


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- pgbench -------------------------------------------------------------------------------------


def run_pgbench(clients: int, duration: float) -> float:
    if shutil.which("pgbench") is None:
        raise RuntimeError("pgbench not found (Debian: apt-get install postgresql-client)")
    recreate_database(PGBENCH_DB)
    try:
        subprocess.run(
            ["pgbench", *pg_args(), "-i", "-q", "-s", str(clients), PGBENCH_DB],
            check=True,
            capture_output=True,
            env=pg_env(),
        )
        result = subprocess.run(
            [
                "pgbench",
                *pg_args(),
                "-c",
                str(clients),
                "-j",
                str(min(clients, os.cpu_count() or 1)),
                "-T",
                str(int(duration)),
                PGBENCH_DB,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=pg_env(),
        )
    finally:
        psql(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if match is None:
        raise RuntimeError(f"could not read pgbench's tps:\n{result.stdout}")
    return float(match.group(1))


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        sys.exit(child_main(argv[1:]))
    args = parse_args(argv)
    redis_db = 11  # the bench's own: notifications queued by its purchases land here
    env = django_env(redis_db)
    flush_redis(env["REDIS_URL"])
    load_before = os.getloadavg()[0]
    expected = int((args.duration + args.warmup) * 2000) + 100
    codes_wanted = min(args.max_requests, expected)
    print(f"setting up database {BENCH_DB} ({args.accounts} accounts) ...", flush=True)
    recreate_database(BENCH_DB)
    child("migrate", env)
    with tempfile.TemporaryDirectory() as folder:
        seed_file = Path(folder) / "seed.json"
        child("seed", env, str(args.accounts), str(codes_wanted), str(seed_file))
        seed = json.loads(seed_file.read_text())
    port = args.port or free_port()
    gunicorn = start_gunicorn(env, port, args.workers, args.threads)
    try:
        load = Load(port, seed["api_key"], seed["codes"], args.warmup, args.duration, codes_wanted)
        print(
            f"authorising over HTTP: {args.connections} connections, gunicorn {args.workers} "
            f"workers × {args.threads} threads, {args.warmup:g} s warm-up + {args.duration:g} s",
            flush=True,
        )
        woken = asyncio.run(load.wake_workers(args.workers * args.threads))
        print(f"  workers warmed up in {woken:.1f} s (not measured)", flush=True)
        cpu_before = cpu_seconds(gunicorn.pid)
        elapsed = asyncio.run(load.run(args.connections))
        cpu_after = cpu_seconds(gunicorn.pid)
        replay_problems = asyncio.run(load.replay(50))
        ceiling = {}
        if args.ceiling_seconds > 0 and load.sent:
            ceiling = asyncio.run(
                load.ceiling(connections=args.connections, seconds=args.ceiling_seconds)
            )
    finally:
        stop_gunicorn(gunicorn)
    checks = json.loads(child("verify", env))
    ok_count = load.statuses.get(201, 0)
    rate = ok_count / elapsed if elapsed else 0.0
    p50 = percentile(load.latencies, 0.50) * 1000 if load.latencies else float("nan")
    p99 = percentile(load.latencies, 0.99) * 1000 if load.latencies else float("nan")
    print(f"  answers (measured): {dict(sorted(load.statuses.items()))}")
    for error in load.errors:
        print(f"  non-201 answer: {error}")
    print(
        f"  checks: {checks['purchases']} purchases for {len(load.sent)} requests, "
        f"{checks['idempotency_records']} idempotency records, "
        f"{checks['unbalanced_entries']} unbalanced journal entries, "
        f"{checks['principal_mismatches']} accounts whose principal disagrees, "
        f"{checks['purchases_without_entry']} purchases without a journal entry, "
        f"{len(replay_problems)} bad replays of 50"
    )
    for problem in replay_problems[:5]:
        print(f"  {problem}")
    sound = (
        not load.errors
        and not replay_problems
        and checks["purchases"] == len(load.sent) == checks["idempotency_records"]
        and checks["unbalanced_entries"] == checks["principal_mismatches"] == 0
        and checks["purchases_without_entry"] == 0
    )
    tps = None
    if not args.skip_pgbench:
        print(
            f"pgbench TPC-B-like: {args.connections} clients, {args.duration:g} s ...", flush=True
        )
        tps = run_pgbench(args.connections, args.duration)
    psql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    flush_redis(env["REDIS_URL"])
    # Both figures share the machine's 2 cores with whatever else runs: say how busy it was.
    print(f"  load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"  authorisations/s: {rate:.1f}")
    if load.sent:
        # CPU the app and its database spent per authorisation, whatever else the machine ran:
        # the ceiling two otherwise idle cores would allow.
        app_ms = (cpu_after[0] - cpu_before[0]) / len(load.sent) * 1000
        db_ms = (cpu_after[1] - cpu_before[1]) / len(load.sent) * 1000
        idle_cores_allow = 2000 / (app_ms + db_ms) if app_ms + db_ms else float("nan")
        print(
            f"  CPU per authorisation: gunicorn {app_ms:.1f} ms + PostgreSQL {db_ms:.1f} ms "
            f"(two idle cores would allow about {idle_cores_allow:.0f}/s)"
        )
    print(f"  latency p50: {p50:.1f} ms   p99: {p99:.1f} ms")
    for name, reads in ceiling.items():
        print(f"  reference, same server and client: {name}: {reads:.0f}/s")
    if tps is not None:
        ratio = rate / tps
        met = ratio >= GOAL_RATIO and p99 <= GOAL_P99_MS and sound
        print(f"  pgbench tps: {tps:.1f}")
        print(
            f"  ratio authorisations/pgbench: {ratio:.3f} (goal >= {GOAL_RATIO} with p99 <= "
            f"{GOAL_P99_MS:g} ms): {'MET' if met else 'NOT MET'}"
        )
    if not sound:
        print("  RULES BROKEN: see the checks above")
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
