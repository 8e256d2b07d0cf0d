"""With PostgreSQL unreachable, a real server answers the API with a JSON 503 and
`Retry-After`, and the site with an HTML 503 — not HTML 500s (issue #13, Must 5).

gunicorn runs on the test settings with DATABASE_URL pointing at a port nothing listens on.
"""

import json
import os
import urllib.error
import urllib.request

import pytest

from config.api_errors import RETRY_AFTER_SECONDS
from testkit.servers import free_port, gunicorn_running


@pytest.fixture(scope="module")
def server_without_database():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/creditline",
        "PYTHONUNBUFFERED": "1",
    }
    with gunicorn_running(env, name="unavailable") as (base, _process):
        yield base


def _get(url: str, headers: dict) -> urllib.error.HTTPError:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    return refused.value


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/account/", {"Authorization": "Token 0123456789abcdef"}),
        ("/api/v1/merchant/purchases/1/", {"Authorization": "Api-Key abc.def"}),
        ("/api/v1/appeals/", {"Authorization": "Token 0123456789abcdef"}),
    ],
)
def test_the_api_answers_a_json_503_with_retry_after(server_without_database, path, headers):
    answer = _get(server_without_database + path, {**headers, "Accept-Language": "en"})
    assert answer.code == 503
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = json.loads(answer.read())
    assert body["code"] == "service_unavailable"
    assert "temporarily unavailable" in body["detail"]


def test_the_site_answers_an_html_503(server_without_database):
    answer = _get(server_without_database + "/", {"Cookie": "sessionid=" + "a" * 32})
    assert answer.code == 503
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
