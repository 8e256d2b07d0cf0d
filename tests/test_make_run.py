"""`make run` (scripts/run.py), the Procfile, and the production settings' deploy check."""

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from accounts.demo import CUSTOMER_PHONE, DEMO_PASSWORD
from testkit.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
# The environment a person would have: without what conftest.py sets for Playwright.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


# What a production deployment must set; a capability whose deploy check needs more adds it.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "credit.example.com",
    "NOTIFICATIONS_SMS_PROVIDER": "notifications.providers.http_gateway.HttpSmsGateway",
    "NOTIFICATIONS_SMS_GATEWAY_URL": "https://sms-gateway.example.com/send",
    "NOTIFICATIONS_SMS_GATEWAY_SECRET": secrets.token_urlsafe(32),
}


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**CLEAN_ENV, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_procfile_is_valid_and_takes_every_address_from_the_environment():
    result = subprocess.run(
        [sys.executable, "-m", "honcho", "check", "-f", "Procfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    procfile = (ROOT / "Procfile").read_text()
    assert re.findall(r"^(\w+):", procfile, re.MULTILINE) == ["web", "worker", "beat"]
    assert not re.search(r"(postgres|redis|filesystem)://", procfile)
    assert "django_celery_beat.schedulers:DatabaseScheduler" in procfile


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _get(url: str, timeout: float):
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - http://127.0.0.1 only


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class RunPy:
    """scripts/run.py in embedded mode, on a free port, with its data in a temporary folder."""

    def __init__(self):
        # Short: the PostgreSQL socket lives in the data folder (unix paths are ≤ 107 bytes).
        self.folder = Path(tempfile.mkdtemp(prefix="mkrun-", dir="/tmp"))
        self.pgdata = self.folder / "pgdata"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.folder / "run.log"
        self._log = self.log_path.open("w")
        env = {
            **CLEAN_ENV,
            # Empty means "not set" to run.py, and keeps a developer's .env out of the test.
            "DATABASE_URL": "",
            "CELERY_BROKER_URL": "",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "CACHE_URL": "locmemcache://",
            "PGDATA_DIR": str(self.pgdata),
            "CELERY_BROKER_FOLDER": str(self.folder / "broker"),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "CELERY_WORKER_CONCURRENCY": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # signals reach run.py only, as with `kill -INT <pid>`
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"run.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                with _get(f"{self.url}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"/healthz did not answer within {timeout} s:\n{self.log()}")

    def cleanup(self) -> None:
        """Whatever happened, leave no process and no folder behind."""
        if self.process.poll() is None:
            children = psutil.Process(self.process.pid).children(recursive=True)
            os.killpg(self.process.pid, signal.SIGKILL)
            for child in children:
                if _alive(child):
                    child.kill()
            self.process.wait()
        pid = _postmaster_pid(self.pgdata)
        if pid and psutil.pid_exists(pid):
            postmaster = psutil.Process(pid)
            postmaster.send_signal(signal.SIGQUIT)
            postmaster.wait(10)
        self._log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def run_py():
    run = RunPy()
    try:
        yield run
    finally:
        run.cleanup()


def _login(url: str, phone: str, password: str) -> tuple[str, str, http.cookiejar.CookieJar]:
    """Log in through the real login page; return the final URL, its page and the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": phone, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    with opener.open(f"{url}/accounts/login/", data=form, timeout=10) as response:
        return response.url, response.read().decode(), jar


def _celery_workers(run_py: RunPy) -> list[psutil.Process]:
    """The Celery worker main processes: the children of `respawn.py worker`."""
    workers = []
    for process in psutil.Process(run_py.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "respawn.py worker --" in " ".join(process.cmdline()):
                workers += [child for child in process.children() if _alive(child)]
    return workers


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_make_run_serves_the_demo_and_ctrl_c_stops_every_process_it_started(run_py):
    # A fresh database runs every migration; the bound is generous because the suite may
    # share the machine with other heavy work (it took 90 s on 2 busy CPUs).
    run_py.wait_healthy(timeout=240)

    with _get(f"{run_py.url}/readyz", timeout=10) as response:
        assert json.load(response)["checks"] == {"database": "ok", "broker": "ok"}
    final_url, page, jar = _login(run_py.url, CUSTOMER_PHONE, DEMO_PASSWORD)
    assert final_url == f"{run_py.url}/"
    assert "王小明" in page  # the demo customer's name, on the portal's welcome
    assert "sessionid" in {cookie.name for cookie in jar}
    log = run_py.log()
    assert f"{run_py.url}/admin/" in log
    assert CUSTOMER_PHONE in log and DEMO_PASSWORD in log

    # A worker that dies is started again by scripts/respawn.py; the platform stays up.
    [worker] = _celery_workers(run_py)
    worker.kill()
    assert _wait(lambda: "respawn | worker exited with code -9" in run_py.log(), timeout=30)
    assert _wait(lambda: [p.pid for p in _celery_workers(run_py)] not in ([], [worker.pid]), 60)
    assert run_py.process.poll() is None
    with _get(f"{run_py.url}/healthz", timeout=10) as response:
        assert response.status == 200

    postmaster = psutil.Process(_postmaster_pid(run_py.pgdata))
    children = psutil.Process(run_py.process.pid).children(recursive=True)
    commands = " ".join(" ".join(p.cmdline()) for p in children)
    assert "gunicorn" in commands and "celery" in commands and " beat " in commands
    started = [*children, postmaster, *postmaster.children(recursive=True)]

    run_py.process.send_signal(signal.SIGINT)
    assert run_py.process.wait(timeout=60) == 0, run_py.log()
    left = [p for p in started if _alive(p)]
    assert left == [], f"still running: {left}\n{run_py.log()}"
    assert "Stopping PostgreSQL" in run_py.log()
