"""`manage.py worker_alive`: the Celery worker's liveness check, for systemd or Kubernetes.

Pings the workers through the broker (Celery remote control, `celery inspect ping`) and exits
0 if one running on this host (or the one named by `--node`) answers within `--timeout`
seconds, 1 otherwise — no answer, or no broker. A worker that is up but cut off from the
broker does not answer: that is "not alive" here, as it cannot do its job; restarting it is
harmless (tasks are acknowledged late and idempotent). docs/operations.md shows its use.
"""

import socket

from celery import current_app
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Exit 0 if a Celery worker on this host (or --node) answers a ping within --timeout "
        "seconds, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=5.0, help="Seconds to wait.")
        parser.add_argument(
            "--node", default="", help="The worker's node name (default: any on this host)."
        )

    def handle(self, *args, timeout: float = 5.0, node: str = "", **options):
        host = socket.gethostname()
        try:
            replies = current_app.control.ping(
                destination=[node] if node else None, timeout=timeout
            )
        except Exception as exc:  # the broker is unreachable: no worker can answer either
            raise CommandError(f"broker unreachable: {exc}", returncode=1) from exc
        names = sorted(name for reply in replies for name in reply)
        alive = [n for n in names if (n == node if node else n.partition("@")[2] == host)]
        if not alive:
            whom = node or f"any worker on {host}"
            raise CommandError(f"no answer from {whom} within {timeout:g} s", returncode=1)
        self.stdout.write(f"alive: {', '.join(alive)}")
