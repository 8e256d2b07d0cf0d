"""A private Redis for fault tests: a throw-away `redis-server` on a free port that a test may
stop and start again, a Celery worker pointed at it, and this process's Celery app pointed at
it too. The machine's Redis on 6379 is never touched.

    with private_redis() as redis, celery_app_on(redis.url), running_worker(redis) as worker:
        redis.stop(); ...; redis.start()
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from unittest import mock

from config.celery import app
from conftest import ARTIFACTS, ROOT, WorkerProcess, subprocess_env
from notifications.services import enqueue
from testkit.servers import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# Quiet hours switched off, so a test means the same at any hour.
NO_QUIET_HOURS = {"NOTIFICATIONS_QUIET_START": "00:00", "NOTIFICATIONS_QUIET_END": "00:00"}


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A private redis-server without persistence that a test may stop and start again (on
    the same port, so clients reconnect to it as to a restarted production Redis)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server to answer")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        assert not self.answers()

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def private_redis():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def celery_app_on(broker_url: str):
    """This process's Celery app publishes to `broker_url` for the duration (Celery reads
    CELERY_BROKER_URL from the environment before its configuration, so both change)."""

    def point(url):
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    with mock.patch.dict(os.environ, {"CELERY_BROKER_URL": broker_url}):
        point(broker_url)
        enqueue._broker_paused_until = 0.0
        try:
            yield app
        finally:
            point(previous)
            enqueue._broker_paused_until = 0.0


@contextmanager
def running_worker(redis: RedisServer, *, concurrency: int = 1, **env):
    """A real `celery worker` on `redis` (quiet hours off; `env` adds settings)."""
    worker = WorkerProcess(
        concurrency=concurrency,
        extra_env={"CELERY_BROKER_URL": redis.url, **NO_QUIET_HOURS, **env},
    )
    try:
        worker.wait_ready(timeout=120)  # a busy two-core machine starts a worker slowly
        yield worker
    finally:
        worker.stop()


class BeatProcess:
    """A real `celery beat` (django-celery-beat's DatabaseScheduler, on the test database)."""

    def __init__(self, redis: RedisServer, **env):
        self.log_path = ARTIFACTS / f"beat-{os.getpid()}-{time.monotonic_ns()}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile=",
            ],
            cwd=ROOT,
            env=subprocess_env(CELERY_BROKER_URL=redis.url, **NO_QUIET_HOURS, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextmanager
def running_beat(redis: RedisServer, **env):
    beat = BeatProcess(redis, **env)
    try:
        yield beat
    finally:
        beat.stop()
