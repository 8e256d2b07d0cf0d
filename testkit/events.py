"""The notices a block of code publishes, as the outbox receives them."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.events import events_published


@dataclass(frozen=True)
class Published:
    event: str
    user_id: int
    context: dict
    dedupe_key: str


@contextmanager
def capture_events() -> Iterator[list[Published]]:
    """Every event published (the outbox's input) while the block runs."""
    seen: list[Published] = []

    def receiver(sender, notices, now, **kwargs):
        seen.extend(Published(str(n.event), n.user.pk, n.context, n.dedupe_key) for n in notices)

    events_published.connect(receiver, dispatch_uid="tests-capture-events", weak=False)
    try:
        yield seen
    finally:
        events_published.disconnect(dispatch_uid="tests-capture-events")
