"""Real servers for tests that talk HTTP to the platform: a free port and a gunicorn process
serving config.wsgi with the environment the test chooses (a private or a dead database)."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn_running(
    env: dict, *, name: str, workers: int = 1, timeout: int = 30, options: tuple = ()
) -> Iterator[tuple[str, subprocess.Popen]]:
    """gunicorn on a free port, once `/healthz` answers: (base URL, process). Its output goes
    to var/test-artifacts/<name>-gunicorn-<port>.log, named in every assertion message."""
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"{name}-gunicorn-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                *("--timeout", str(timeout)),
                *options,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
