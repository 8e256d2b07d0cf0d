"""A Celery worker bootstep: sweep the outbox as soon as the worker is back on the broker.

While the broker is down, the kicks on commit are lost (the rows wait, PENDING) and beat
cannot publish its minute's sweep. When the worker's consumer reconnects, this step publishes
one `notifications.sweep` at once, so the waiting rows go out within seconds of the broker's
return rather than at beat's next tick (up to a minute later, and beat may be reconnecting
too). A sweep more than needed is harmless: dispatches claim rows with `FOR UPDATE SKIP
LOCKED` and find nothing due once the rows are sent.

Registered on the consumer blueprint in config/celery.py. It imports nothing of Django: the
Celery app is built before Django is set up.
"""

import logging

from celery import bootsteps

logger = logging.getLogger(__name__)

SWEEP_TASK = "notifications.sweep"


class SweepOnReconnect(bootsteps.StartStopStep):
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.connected_before = False

    def start(self, parent):
        # The consumer's steps start again after every reconnection; the first start is the
        # worker's own (beat's sweep covers it), every later one is a return of the broker.
        if not self.connected_before:
            self.connected_before = True
            return
        try:
            parent.app.send_task(SWEEP_TASK, retry=False)
        except Exception:  # the broker went away again; the next reconnection tries again
            logger.warning("broker back but the catch-up sweep could not be sent", exc_info=True)
        else:
            logger.info("broker back: catch-up sweep of the outbox sent")
