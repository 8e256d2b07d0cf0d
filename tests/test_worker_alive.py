"""`manage.py worker_alive`: 0 while this host's worker answers, 1 once it is gone."""

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from testkit.private_redis import celery_app_on, private_redis, running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_alive_answers_0_while_the_worker_runs_and_1_once_it_is_stopped(capsys):
    with private_redis() as redis, celery_app_on(redis.url):
        with running_worker(redis) as worker:
            call_command("worker_alive", timeout=10)
            assert capsys.readouterr().out.startswith("alive: test-")
            with pytest.raises(CommandError, match="no answer from nobody@nowhere") as refused:
                call_command("worker_alive", timeout=1, node="nobody@nowhere")
            assert refused.value.returncode == 1
            node = worker.process.args[-1].replace("%h", socket.gethostname())
            call_command("worker_alive", timeout=10, node=node)

        with pytest.raises(CommandError, match="no answer from any worker on") as dead:
            call_command("worker_alive", timeout=2)
        assert dead.value.returncode == 1

        redis.stop()
        with pytest.raises(CommandError) as no_broker:
            call_command("worker_alive", timeout=2)
        assert no_broker.value.returncode == 1
        redis.start()
