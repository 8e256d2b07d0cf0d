"""scripts/respawn.py: the Procfile's worker and beat are started again when they die, and
stopped (not restarted) when the runner stops them."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESPAWN = ROOT / "scripts" / "respawn.py"


def _respawn(name: str, code: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(RESPAWN), name, "--", sys.executable, "-c", code],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_command_that_dies_is_started_again_with_a_growing_backoff_and_a_console_line(
    tmp_path,
):
    starts = tmp_path / "starts"
    log = tmp_path / "log"
    # Each run notes its start and dies at once, as a crashing worker would.
    code = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"
    runner = _respawn("worker", code, log)
    try:
        assert _wait_for(lambda: starts.exists() and len(starts.read_text()) >= 3, timeout=20)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=10)
    lines = [line for line in log.read_text().splitlines() if line.startswith("respawn |")]
    assert lines[0].startswith("respawn | worker exited with code 3 after")
    assert lines[0].endswith("starting it again in 1 s")
    assert lines[1].endswith("starting it again in 2 s")


def test_a_stop_signal_is_passed_on_and_the_command_is_not_started_again(tmp_path):
    log = tmp_path / "log"
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
        "print('up', flush=True)\n"
        "time.sleep(60)\n"
    )
    runner = _respawn("beat", code, log)
    assert _wait_for(lambda: "up" in log.read_text(), timeout=20)
    [child] = psutil.Process(runner.pid).children()

    runner.send_signal(signal.SIGTERM)

    assert runner.wait(timeout=10) == 0  # the command's own exit code
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    assert "respawn |" not in log.read_text()
