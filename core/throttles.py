"""Rate limits: every throttle of the platform, in one place (docs/security.md).

Each limit is a DRF throttle counted in the default cache (Redis), keyed by what it limits
(the client's IP address, a phone number, a customer), with its rate in a named setting
(`THROTTLE_*` in config/settings/base.py, "<requests>/<second|minute|hour|day>"). Over the
limit, the API answers 429 with `Retry-After` and `{"code": "throttled", "detail": …}`
(config/api_errors.py; the message is `throttled_message`); the portal login page answers
429 with the same message.

The money path must go on with Redis down (settings: "Nothing on the money path reads the
cache"), so a throttle whose cache does not answer lets the request through and logs it.
"""

import hashlib
import logging
import math

from django.conf import settings
from django.utils.translation import ngettext
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from core.http import client_ip

logger = logging.getLogger(__name__)

# Every throttle key begins with this (after the cache's own prefix and version); the tests
# delete these keys between tests (conftest.py) instead of flushing Redis.
KEY_PREFIX = "throttle:"


def retry_after(wait: float | None) -> int:
    """The `Retry-After` seconds for a throttle's `wait()`."""
    return max(1, math.ceil(wait or 0))


def throttled_message(wait: float | None) -> str:
    seconds = retry_after(wait)
    return ngettext(
        "Too many requests. Try again in %(seconds)d second.",
        "Too many requests. Try again in %(seconds)d seconds.",
        seconds,
    ) % {"seconds": seconds}


def _digest(value: str) -> str:
    """Keys name no phone number or IP address in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class SettingRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is the setting `rate_setting`, read when the request comes (so
    a change of settings applies at once), counting only `methods`."""

    rate_setting: str = ""
    methods: tuple[str, ...] = ("POST",)
    cache_format = KEY_PREFIX + "%(scope)s:%(ident)s"

    def get_rate(self):
        return getattr(settings, self.rate_setting)

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view):
        if request.method not in self.methods:
            return None
        ident = self.identity(request, view)
        if not ident:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _digest(ident)}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("Rate limit %s not checked: the cache does not answer", self.scope)
            return True


class ClientIpThrottle(SettingRateThrottle):
    def identity(self, request, view):
        return client_ip(request)


class CustomerThrottle(SettingRateThrottle):
    """Per signed-in customer (the views let only customers in)."""

    def identity(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.pk is None:
            return None
        return f"user:{user.pk}"


# --- customer tokens and the portal login -----------------------------------------------------


class TokenIssueIpThrottle(ClientIpThrottle):
    scope = "token_ip"
    rate_setting = "THROTTLE_TOKEN_PER_IP"


class TokenIssuePhoneThrottle(SettingRateThrottle):
    """Per phone number, whatever the form it was typed in: the view names the normalised
    number (`view.throttle_phone(request)`, accounts.phone)."""

    scope = "token_phone"
    rate_setting = "THROTTLE_TOKEN_PER_PHONE"

    def identity(self, request, view):
        return view.throttle_phone(request)


class LoginIpThrottle(ClientIpThrottle):
    """The portal login form, per address: axes locks a number after its failures; this stops
    one address from trying many numbers."""

    scope = "login_ip"
    rate_setting = "THROTTLE_LOGIN_PER_IP"


# --- customer operations ----------------------------------------------------------------------


class PaymentCodeThrottle(CustomerThrottle):
    scope = "payment_codes"
    rate_setting = "THROTTLE_PAYMENT_CODES"


class RepaymentThrottle(CustomerThrottle):
    scope = "repayments"
    rate_setting = "THROTTLE_REPAYMENTS"


class AppealCreateThrottle(CustomerThrottle):
    scope = "appeals"
    rate_setting = "THROTTLE_APPEALS"


# --- merchant API keys ------------------------------------------------------------------------


class FailedApiKeyThrottle(ClientIpThrottle):
    """Counts wrong merchant API keys per client address. Once an address has had its share,
    every key it sends (the right one too) is refused without being checked, until the
    oldest failure leaves the window: `blocked_for` before checking, `failure_record` after
    a wrong key."""

    scope = "failed_api_keys"
    rate_setting = "THROTTLE_FAILED_API_KEYS"
    methods = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")

    def blocked_for(self, request) -> float | None:
        """Seconds until this address may try a key again, or None when it may now."""
        try:
            self.key = self.get_cache_key(request, None)
            if self.key is None:
                return None
            self.history = self.cache.get(self.key, [])
        except (RedisError, OSError):
            logger.warning("Rate limit %s not checked: the cache does not answer", self.scope)
            return None
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) < self.num_requests:
            return None
        return self.duration - (self.now - self.history[-1])

    def failure_record(self, request) -> None:
        """Count one wrong key (call after `blocked_for` answered None)."""
        if getattr(self, "key", None) is None:
            return
        try:
            self.throttle_success()
        except (RedisError, OSError):
            logger.warning("Rate limit %s not recorded: the cache does not answer", self.scope)
