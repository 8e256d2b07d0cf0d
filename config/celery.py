import os

from celery import Celery

from notifications.worker_steps import SweepOnReconnect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("creditline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# After a broker outage the worker sweeps the outbox as soon as it is reconnected.
app.steps["consumer"].add(SweepOnReconnect)
