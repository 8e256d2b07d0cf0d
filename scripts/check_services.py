"""Fail fast, naming the dependency, when PostgreSQL or Redis is not reachable.

Used by `make test` before pytest starts, so a missing service is one clear line rather
than hundreds of connection errors.
"""

import os
import socket
import sys
from urllib.parse import urlparse

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
}


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def main() -> int:
    checks = [
        (
            "PostgreSQL",
            os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/creditline"),
            5432,
        ),
        ("Redis", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), 6379),
    ]
    failed = False
    for name, url, port in checks:
        if not reachable(url, port):
            parsed = urlparse(url)
            print(
                f"{name} is not reachable at {parsed.hostname}:{parsed.port or port}. "
                f"Start it with: {HOW_TO_START[name]}  (or set the URL in the environment)",
                file=sys.stderr,
            )
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
