"""Providers: the SMS sandbox, the HTTP gateway (against a local server) and email."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.models import NotificationStatus, SandboxSms
from notifications.providers import OutgoingMessage, ProviderError, SendResult, provider_for
from notifications.providers.http_gateway import HttpSmsGateway
from notifications.providers.sandbox import SandboxSmsProvider
from notifications.services import notifications_dispatch
from notifications.tests.factories import NOW, NotificationFactory

SECRET = "gateway-shared-secret"


def sent(provider, messages) -> list[SendResult]:
    """Every result of a batch, in order (the dispatcher records them step by step)."""
    return [result for step in provider.send_steps(messages) for result in step]


def _message(key="41", text="【信用付】您的登录验证码是123456", to="+8613912345678"):
    return OutgoingMessage(idempotency_key=key, to=to, subject="", body=text)


@pytest.mark.django_db
def test_the_sandbox_records_each_message_once_and_answers_the_first_id_on_a_repeat():
    sandbox = SandboxSmsProvider()

    first = sandbox.send(_message())
    again = sandbox.send(_message(text="a different text"))

    sms = SandboxSms.objects.get()
    assert again == first == sms.message_id
    assert (sms.idempotency_key, sms.calls, sms.segments) == ("41", 2, 1)
    assert sms.text == "【信用付】您的登录验证码是123456"


@pytest.mark.django_db
def test_the_sandbox_sends_a_batch_in_one_go_and_counts_repeats_within_it():
    sandbox = SandboxSmsProvider()
    sandbox.send(_message(key="1"))

    results = sent(sandbox, [_message(key=str(k)) for k in (1, 2, 3)])

    assert all(isinstance(r, SendResult) and r.ok for r in results)
    assert SandboxSms.objects.count() == 3
    assert dict(SandboxSms.objects.values_list("idempotency_key", "calls")) == {
        "1": 2,
        "2": 1,
        "3": 1,
    }


@pytest.mark.django_db
def test_the_slow_sandbox_sends_one_message_at_a_time(settings):
    settings.NOTIFICATIONS_SANDBOX_DELAY_SECONDS = 0.01

    results = sent(SandboxSmsProvider(), [_message(key="7"), _message(key="8")])

    rows = list(SandboxSms.objects.order_by("idempotency_key"))
    assert [r.message_id for r in results] == [row.message_id for row in rows]
    # Each message was its own call (a batch shares one instant).
    assert rows[0].created_at < rows[1].created_at


class FakeGateway(BaseHTTPRequestHandler):
    """A gateway that checks the signature and sends once per Idempotency-Key."""

    status = 200
    sent: dict[str, str] = {}
    requests: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers["X-Timestamp"]
        expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        key = self.headers["Idempotency-Key"]
        self.requests.append({"key": key, "body": json.loads(body), "headers": dict(self.headers)})
        if self.headers["X-Signature"] != f"sha256={expected.hexdigest()}":
            self._answer(401, {"error": "bad signature"})
        elif self.status != 200:
            self._answer(self.status, {"error": "failure"})
        else:
            self.sent.setdefault(key, f"gw-{len(self.sent) + 1}")
            self._answer(200, {"message_id": self.sent[key]})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    FakeGateway.status, FakeGateway.sent, FakeGateway.requests = 200, {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms", FakeGateway
    finally:
        server.shutdown()
        server.server_close()


def test_the_gateway_posts_a_signed_request_with_the_idempotency_key(gateway):
    url, server = gateway

    message_id = HttpSmsGateway(url=url, secret=SECRET).send(_message(key="41"))

    [request] = server.requests
    assert message_id == "gw-1"
    assert request["key"] == "41"
    assert request["body"] == {
        "to": "+8613912345678",
        "text": "【信用付】您的登录验证码是123456",
        "reference": "41",
    }
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"


def test_the_gateway_answers_the_same_message_id_for_a_repeated_key(gateway):
    url, server = gateway
    provider = HttpSmsGateway(url=url, secret=SECRET)

    assert provider.send(_message(key="9")) == provider.send(_message(key="9")) == "gw-1"
    assert len(server.sent) == 1


def test_a_wrong_secret_is_a_permanent_refusal(gateway):
    url, _server = gateway

    with pytest.raises(ProviderError) as refused:
        HttpSmsGateway(url=url, secret="not-the-secret").send(_message())

    assert refused.value.permanent
    assert "401" in str(refused.value)


@pytest.mark.parametrize(
    ("status", "permanent"), [(500, False), (503, False), (429, False), (400, True), (422, True)]
)
def test_gateway_errors_are_retried_unless_the_gateway_refuses_the_message(
    gateway, status, permanent
):
    url, server = gateway
    server.status = status

    with pytest.raises(ProviderError) as failed:
        HttpSmsGateway(url=url, secret=SECRET).send(_message())

    assert failed.value.permanent is permanent


def test_an_unreachable_gateway_is_retried():
    provider = HttpSmsGateway(url="http://127.0.0.1:1/sms", secret=SECRET, timeout=1)

    [result] = sent(provider, [_message()])

    assert not result.ok and not result.permanent
    assert result.error.startswith("gateway unreachable")


def test_the_gateway_refuses_to_start_without_a_url_or_a_secret():
    with pytest.raises(ImproperlyConfigured):
        HttpSmsGateway(url="", secret=SECRET)
    with pytest.raises(ImproperlyConfigured):
        HttpSmsGateway(url="file:///etc/passwd", secret=SECRET)
    with pytest.raises(ImproperlyConfigured):
        HttpSmsGateway(url="https://sms.example.com/send", secret="")


@pytest.mark.django_db
def test_dispatch_through_the_gateway_swapped_in_by_settings(gateway, settings):
    url, server = gateway
    settings.NOTIFICATIONS_SMS_PROVIDER = "notifications.providers.http_gateway.HttpSmsGateway"
    settings.NOTIFICATIONS_SMS_GATEWAY_URL = url
    settings.NOTIFICATIONS_SMS_GATEWAY_SECRET = SECRET
    row = NotificationFactory()

    notifications_dispatch(now=NOW)

    row.refresh_from_db()
    assert isinstance(provider_for("SMS"), HttpSmsGateway)
    assert (row.status, row.provider_message_id) == (NotificationStatus.SENT, "gw-1")
    assert server.requests[0]["key"] == str(row.pk)
    assert not SandboxSms.objects.exists()
