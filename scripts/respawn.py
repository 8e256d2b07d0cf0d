"""`respawn.py NAME -- COMMAND...`: run COMMAND, and start it again whenever it exits on its own.

The Procfile runs the Celery worker and beat through this, so that one of them dying (a crash,
the OOM killer, a SIGKILL) restarts that process after a short backoff instead of stopping
the platform: a Procfile runner such as honcho (`make run`) stops every process as soon as one
exits. A console line says what happened:

    respawn | worker exited with code -9 after 12.3 s; starting it again in 1 s

Backoff: 1 s, doubling up to 30 s while the command keeps dying within a minute of its start;
back to 1 s after a run of a minute or more.

SIGTERM, SIGINT, SIGHUP and SIGQUIT are passed on to the command, and then this exits with the
command's exit code, without restarting it: stopping the platform still stops it. In
production the same job is done by a process supervisor (systemd `Restart=always`, see
docs/operations.md), which runs the commands directly.
"""

import signal
import subprocess
import sys
import time

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0  # seconds of running after which the backoff starts from 1 s again
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def say(name: str, message: str) -> None:
    print(f"respawn | {name} {message}", flush=True)


class Respawn:
    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def on_signal(self, signum, _frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        for signum in FORWARDED:
            signal.signal(signum, self.on_signal)
        backoff = FIRST_BACKOFF
        while True:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)  # noqa: S603 - the Procfile's command
            code = self.child.wait()
            if self.stopping:
                return code
            ran = time.monotonic() - started
            if ran >= STABLE_AFTER:
                backoff = FIRST_BACKOFF
            say(
                self.name,
                f"exited with code {code} after {ran:.1f} s; starting it again in {backoff:g} s",
            )
            deadline = time.monotonic() + backoff
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.stopping:
                return code
            backoff = min(backoff * 2, MAX_BACKOFF)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.split("\n", 1)[0], file=sys.stderr)
        return 2
    return Respawn(argv[0], argv[2:]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
