"""The web process's access log keeps no customer's phone number (issue #13, Must 2): the
Procfile's gunicorn options, run for real, with numbers in the query string and the Referer."""

import os
import re
import time
import urllib.request
from pathlib import Path

from testkit.servers import ARTIFACTS, gunicorn_running

ROOT = Path(__file__).resolve().parent.parent


def procfile_logging_options() -> tuple[str, ...]:
    web = re.search(r"^web: .*$", (ROOT / "Procfile").read_text(), re.MULTILINE).group(0)
    return tuple(re.search(r"--access-logfile - --logger-class \S+", web).group(0).split())


def test_numbers_in_urls_and_referers_are_masked_in_the_access_log():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    options = procfile_logging_options()
    with gunicorn_running(env, name="access-log", options=options) as (base, _process):
        request = urllib.request.Request(  # noqa: S310 - our own server
            f"{base}/healthz?q=13600000101&other=%2B8613600000102",
            headers={"Referer": f"{base}/admin/accounts/user/?q=+86 13600000103"},
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
        log = ARTIFACTS / f"access-log-gunicorn-{base.rsplit(':', 1)[1]}.log"
        deadline = time.monotonic() + 10
        # The line of this request, not the readiness probe's plain `GET /healthz`.
        while "GET /healthz?" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()

    assert "GET /healthz?q=136****0101&other=136****0102" in text
    for digits in ("13600000101", "13600000102", "13600000103"):
        assert digits not in text
