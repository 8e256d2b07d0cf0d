import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("creditline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# After a broker outage the worker sweeps the outbox as soon as it is reconnected. Named, not
# imported: bootsteps are loaded by name when a worker starts, and only then.
app.steps["consumer"].add("notifications.worker_steps:SweepOnReconnect")
