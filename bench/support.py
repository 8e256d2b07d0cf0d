"""What every benchmark needs: its own database on the server, Django pointed at it, a broker
queue of its own, and peak-memory readings. One copy, so the benchmarks measure alike."""

import os
import socket
import subprocess
from urllib.parse import urlparse


# --- the database server (from DATABASE_URL, as the app reads it) -----------------------------
def server_url() -> str:
    return os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/creditline")


def url_for(database: str) -> str:
    return urlparse(server_url())._replace(path=f"/{database}").geturl()


def pg_args() -> list[str]:
    """Connection options for psql and pgbench."""
    parsed = urlparse(server_url())
    args = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432)]
    return [*args, "-U", parsed.username or "postgres"]


def pg_env() -> dict:
    env = dict(os.environ)
    password = urlparse(server_url()).password
    if password:
        env["PGPASSWORD"] = password
    return env


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", *pg_args(), "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
        env=pg_env(),
    ).stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Django in this process ---------------------------------------------------------------------
def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django
    from django.apps import apps
    from django.conf import settings

    if not apps.ready:
        django.setup()
    settings.DEBUG = False  # no query log: it would hold every statement in memory


def server_connection():
    """An autocommit connection to the server's maintenance database, for CREATE/DROP."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        autocommit=True,
    )


def use_database(name: str) -> str:
    """Point Django's default connection at `name`; returns the previous name."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    previous = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    return previous


def isolate_broker() -> None:
    """Notices kick Celery on commit: send those to a queue of the bench's own, so no worker
    of another database picks them up. `purge_broker` empties it at the end."""
    from config.celery import app

    app.conf.broker_url = os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
    if getattr(app, "_pool", None) is not None:  # a connection pool made for another broker
        app._pool.force_close_all()
        app._pool = None


def purge_broker() -> None:
    from config.celery import app

    try:
        app.control.purge()
    except Exception as exc:  # the broker is down: nothing was queued there anyway
        print(f"   (broker purge skipped: {exc})")


def statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";\n") if s.strip()]


# --- memory ------------------------------------------------------------------------------------
def peak_kib(pid: int | str = "self") -> int | None:
    """VmHWM (peak resident set) of a local process, when /proc shows it."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Start this process's VmHWM afresh (Linux ≥ 4.0), so a phase measures its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f} MiB"
