"""Due reminders for a million installments, and notification dispatch through Celery.

    make bench BENCH_ARGS="reminders"
    make bench BENCH_ARGS="reminders --installments=200000 --dispatch=10000 --keep"

What runs, all on this machine and the PostgreSQL server of DATABASE_URL (default the local
one on 127.0.0.1:5432):

1. a fresh database `creditline_bench_reminders`, migrated; then, set-based in SQL (template
   rows written through the ORM, cloned with INSERT … SELECT): --installments × 2/5 customers
   with a credit line each, 2 or 3 installment plans per line, each plan with one open
   installment due in the reminder window of the business date (due in 3 days, today, 1, 3
   or 7 days ago, by account) and one due next month — so --installments open installments
   in the window among twice as many;
2. `reminders_generate(business_date=…)` timed (goal ≤ 30 s for 1,000,000 installments),
   then run again: it must insert nothing;
3. a private redis-server on a free port (the machine's Redis is not touched) as the broker:
   the baseline is the rate at which this process publishes no-op Celery tasks; then
   --dispatch pending SMS rows, a real `celery worker` (prefork, one process per core) and
   one `notifications.dispatch` task per batch of --batch rows, timed until every row is
   SENT to the sandbox provider (goal ≥ 0.5 × the baseline rate);
4. prints the figures beside their baselines and goals, then drops the database (unless
   --keep) and stops redis-server and the worker.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.support import free_port, psql, url_for

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "creditline_bench_reminders"
GOAL_GENERATE_SECONDS = 30.0
GOAL_DISPATCH_RATIO = 0.5
WINDOW_DAYS = (3, 0, -1, -3, -7)  # due date − business date, for the five reminders


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench reminders")
    parser.add_argument("--installments", type=int, default=1_000_000)
    parser.add_argument("--dispatch", type=int, default=20_000, help="SMS rows to dispatch")
    parser.add_argument("--batch", type=int, default=200, help="rows per dispatch task")
    parser.add_argument("--noop-tasks", type=int, default=20_000, help="baseline publishes")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args(argv)


# --- a private broker ------------------------------------------------------------------------


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            *["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("redis-server did not start")


def django_env(broker_url: str, batch: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": url_for(BENCH_DB),
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Dispatch at any hour: quiet hours would hold the SMS until 08:00.
        "NOTIFICATIONS_QUIET_START": "00:00",
        "NOTIFICATIONS_QUIET_END": "00:00",
        "NOTIFICATIONS_BATCH_SIZE": str(batch),
        "NOTIFICATIONS_SMS_PROVIDER": "notifications.providers.sandbox.SandboxSmsProvider",
    }


def child(command: str, env: dict, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.reminders", "--child", command, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench child {command!r} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}


def start_worker(env: dict, concurrency: int, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            *["-m", "celery", "-A", "config", "worker", "--loglevel=INFO"],
            f"--concurrency={concurrency}",
            *["--pool=prefork", "-Q", "celery", "--without-gossip", "--without-mingle"],
            *["--without-heartbeat", "-n", f"bench-{uuid.uuid4().hex[:8]}@%h"],
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited:\n{log.read_text()}")
        if " ready." in log.read_text():
            return worker
        time.sleep(0.2)
    worker.kill()
    raise RuntimeError(f"worker not ready:\n{log.read_text()}")


# --- the Django side (child processes on the bench database) ---------------------------------


def child_main(argv: list[str]) -> int:
    import django

    django.setup()
    command, args = argv[0], argv[1:]
    if command == "migrate":
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        result = {}
    elif command == "seed":
        result = _seed(installments=int(args[0]))
    elif command == "generate":
        result = _generate()
    elif command == "noop":
        result = _publish_noop(count=int(args[0]))
    elif command == "dispatch":
        result = _dispatch(rows=int(args[0]), batch=int(args[1]))
    else:
        raise SystemExit(f"unknown child command {command}")
    print(json.dumps(result))
    return 0


def _business_day():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    business_date = date(2026, 3, 10)
    # 01:00: the close of the previous day has run; the SMS wait for 08:00.
    return business_date, datetime(2026, 3, 10, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _clone(cursor, model, template_pk: int, overrides: dict, source: str, where: str) -> int:
    """INSERT … SELECT one copy of a template row per row of `source` (filtered by `where`);
    `overrides` maps columns to SQL over `source`, every other column is copied. New columns
    other apps add are copied too, so the seed keeps up with the schema."""
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    values = [overrides.get(column, f"t.{column}") for column in columns]
    table = model._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {table} AS t CROSS JOIN {source} "
        f"WHERE t.id = {int(template_pk)} AND {where}"
    )
    return cursor.rowcount


def _seed(*, installments: int) -> dict:
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection, transaction

    from accounts.models import User
    from credit.models import (
        CreditAccount,
        FeeSchedule,
        Installment,
        InstallmentPlan,
        Merchant,
        Purchase,
    )

    business_date, now = _business_day()
    accounts = installments * 2 // 5  # 2 or 3 plans per account: 2.5 on average
    started = time.monotonic()
    with transaction.atomic():
        user = User.objects.create_user("+8619900000000", None)
        account = CreditAccount.objects.create(
            customer=user, base_limit=Decimal("50000.00"), opened_at=now
        )
        merchant = Merchant.objects.create(
            name="Bench shop", api_key_prefix="bench", api_key_hash="0" * 64, created_at=now
        )
        purchase = Purchase.objects.create(
            account=account,
            merchant=merchant,
            amount=Decimal("1200.00"),
            term_months=3,
            idempotency_key="template",
            created_at=now,
        )
        plan = InstallmentPlan.objects.create(
            purchase=purchase,
            account=account,
            fee_schedule=FeeSchedule.objects.order_by("pk").first(),
            principal=Decimal("1200.00"),
            term_months=3,
            monthly_fee_rate=Decimal("0.006000"),
            total_fee=Decimal("21.60"),
            annual_rate=Decimal("0.142100"),
            created_at=now,
        )
        installment = Installment.objects.create(
            plan=plan,
            account=account,
            sequence=1,
            due_date=business_date + timedelta(days=40),
            original_due_date=business_date + timedelta(days=40),
            principal=Decimal("400.00"),
            fee=Decimal("7.20"),
        )
        window = ", ".join(f"{days}" for days in WINDOW_DAYS)
        offset = f"(ARRAY[{window}])[pl.account_id % 5 + 1]"  # the account's due day
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            _clone(
                cursor,
                User,
                user.pk,
                {
                    "phone": "'+8613' || lpad(g::text, 9, '0')",
                    "email": "CASE WHEN g % 3 = 0 THEN 'c' || g || '@example.com' ELSE '' END",
                    "preferred_language": "CASE WHEN g % 4 = 0 THEN 'en' ELSE 'zh-hans' END",
                },
                f"generate_series(1, {accounts}) AS g",
                "true",
            )
            _clone(
                cursor,
                CreditAccount,
                account.pk,
                {"customer_id": "u.id"},
                "accounts_user AS u",
                f"u.id <> {user.pk}",
            )
            _clone(
                cursor,
                Purchase,
                purchase.pk,
                {"account_id": "a.id", "idempotency_key": "'bench-' || p"},
                "credit_creditaccount AS a "
                "CROSS JOIN LATERAL generate_series(1, 2 + a.id % 2) AS p",
                f"a.id <> {account.pk}",
            )
            _clone(
                cursor,
                InstallmentPlan,
                plan.pk,
                {"purchase_id": "pu.id", "account_id": "pu.account_id"},
                "credit_purchase AS pu",
                f"pu.id <> {purchase.pk}",
            )
            # The account decides the due date in the window (all its plans share its due day).
            in_window = _clone(
                cursor,
                Installment,
                installment.pk,
                {
                    "plan_id": "pl.id",
                    "account_id": "pl.account_id",
                    "due_date": f"DATE '{business_date}' + {offset}",
                    "original_due_date": f"DATE '{business_date}' + {offset}",
                    "status": f"CASE WHEN {offset} < 0 THEN 'OVERDUE' ELSE 'PENDING' END",
                },
                "credit_installmentplan AS pl",
                f"pl.id <> {plan.pk}",
            )
            later = _clone(
                cursor,
                Installment,
                installment.pk,
                {"plan_id": "pl.id", "account_id": "pl.account_id", "sequence": "2"},
                "credit_installmentplan AS pl",
                f"pl.id <> {plan.pk}",
            )
            cursor.execute(f"DELETE FROM credit_installment WHERE id = {installment.pk}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        # Start the measured run from a checkpoint, not while the seed's WAL is being flushed.
        cursor.execute("CHECKPOINT")
    return {
        "accounts": accounts,
        "in_window": in_window,
        "installments": in_window + later,
        "seconds": time.monotonic() - started,
    }


def _backend_cpu_seconds(pid: int) -> float | None:
    """CPU time the PostgreSQL backend has used (a local server only): the figure that does
    not change when other processes compete for the cores."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _generate() -> dict:
    from django.db import connection

    from credit.servicing.services import reminders_generate

    business_date, now = _business_day()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    result = {}
    for run in ("first", "rerun"):
        cpu, started = _backend_cpu_seconds(backend), time.monotonic()
        result[f"{run}_rows"] = reminders_generate(business_date=business_date, now=now)
        result[f"{run}_seconds"] = time.monotonic() - started
        after = _backend_cpu_seconds(backend)
        result[f"{run}_cpu"] = None if cpu is None or after is None else after - cpu
    return result


def _publish_noop(*, count: int) -> dict:
    from config.celery import app

    app.send_task("bench.noop")  # connect first: the rate is of publishing, not connecting
    started = time.monotonic()
    for _n in range(count):
        app.send_task("bench.noop")
    seconds = time.monotonic() - started
    app.control.purge()
    return {"count": count, "seconds": seconds}


def _dispatch(*, rows: int, batch: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from config.celery import app
    from notifications.catalogue import POLICIES

    now = timezone.now()
    sample = json.dumps(POLICIES["REPAYMENT_RECEIVED"].sample)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_notification, notifications_sandboxsms CASCADE")
        cursor.execute(
            "INSERT INTO notifications_notification (event, user_id, channel, template_key, "
            "context, dedupe_key, status, attempts, next_attempt_at, provider_message_id, "
            "sent_at, read_at, last_error, created_at) "
            "SELECT 'REPAYMENT_RECEIVED', u.id, 'SMS', 'repayment_received', %s::jsonb, "
            "'bench-dispatch:' || u.id, 'PENDING', 0, %s, '', NULL, NULL, '', %s "
            "FROM accounts_user AS u ORDER BY u.id LIMIT %s",
            [sample, now, now, rows],
        )
        cursor.execute("ANALYZE notifications_notification")
    started = time.monotonic()
    for _task in range(-(-rows // batch)):
        app.send_task("notifications.dispatch", kwargs={})
    published = time.monotonic() - started
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM notifications_notification "
                "WHERE dedupe_key LIKE 'bench-dispatch:%%' AND status = 'SENT'"
            )
            if cursor.fetchone()[0] >= rows:
                break
            if time.monotonic() - started > 600:
                raise RuntimeError("dispatch did not finish in 10 minutes")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        cursor.execute("SELECT count(*), sum(calls) FROM notifications_sandboxsms")
        messages, calls = cursor.fetchone()
    return {
        "rows": rows,
        "seconds": seconds,
        "publish_seconds": published,
        "sandbox_messages": messages,
        "sandbox_calls": int(calls or 0),
    }


# --- the run -----------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        sys.exit(child_main(argv[1:]))
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    port = free_port()
    env = django_env(f"redis://127.0.0.1:{port}/0", args.batch)
    print(f"setting up database {BENCH_DB} ...", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{BENCH_DB}"')
    redis = worker = None
    try:
        child("migrate", env)
        seed = child("seed", env, str(args.installments))
        print(
            f"  {seed['accounts']:,} accounts, {seed['installments']:,} installments of which "
            f"{seed['in_window']:,} open and due in the reminder window "
            f"(seeded set-based in {seed['seconds']:.1f} s)",
            flush=True,
        )
        generated = child("generate", env)

        redis = start_redis(port)
        noop = child("noop", env, str(args.noop_tasks))
        with tempfile.TemporaryDirectory() as folder:
            worker = start_worker(env, args.concurrency, Path(folder) / "worker.log")
            dispatched = child("dispatch", env, str(args.dispatch), str(args.batch))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _report(args, seed, generated, noop, dispatched)
    print(
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} before the run and "
        f"{os.getloadavg()[0]:.1f} after (other processes compete for the same cores)"
    )


def _report(args, seed, generated, noop, dispatched) -> None:
    noop_rate = noop["count"] / noop["seconds"]
    dispatch_rate = dispatched["rows"] / dispatched["seconds"]
    ratio = dispatch_rate / noop_rate
    generate_ok = (
        generated["first_seconds"] <= GOAL_GENERATE_SECONDS * seed["in_window"] / 1_000_000
    )
    rerun_ok = generated["rerun_rows"] == 0
    dispatch_ok = ratio >= GOAL_DISPATCH_RATIO
    exactly_once = dispatched["sandbox_messages"] == dispatched["sandbox_calls"] == args.dispatch

    def verdict(ok):
        return "OK" if ok else "MISSED"

    def cpu(seconds):
        return "" if seconds is None else f", server CPU {seconds:.1f} s"

    print(f"reminders for {seed['in_window']:,} open installments due in the window")
    print(
        f"  generate   {generated['first_rows']:>10,} outbox rows in "
        f"{generated['first_seconds']:6.2f} s "
        f"({seed['in_window'] / generated['first_seconds']:,.0f} installments/s"
        f"{cpu(generated['first_cpu'])})   "
        f"goal <= {GOAL_GENERATE_SECONDS:.0f} s per million: {verdict(generate_ok)}"
    )
    print(
        f"  re-run     {generated['rerun_rows']:>10,} outbox rows in "
        f"{generated['rerun_seconds']:6.2f} s{cpu(generated['rerun_cpu'])}   "
        f"goal 0 rows: {verdict(rerun_ok)}"
    )
    print(
        f"dispatch of {args.dispatch:,} SMS through Celery + Redis to the sandbox "
        f"({args.batch} rows per task, {args.concurrency} worker processes)"
    )
    print(f"  baseline   {noop_rate:>10,.0f} no-op tasks/s published (Celery send_task)")
    print(
        f"  dispatch   {dispatch_rate:>10,.0f} notifications/s sent, publish to last SENT "
        f"= {ratio:.2f} x baseline   goal >= {GOAL_DISPATCH_RATIO}: {verdict(dispatch_ok)}"
    )
    print(
        f"  sandbox    {dispatched['sandbox_messages']:>10,} messages, "
        f"{dispatched['sandbox_calls']:,} provider calls: "
        f"{'each sent once' if exactly_once else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
