import secrets

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from accounts.selectors import has_confirmed_second_factor

DEVICE_COOKIE = "device_id"
DEVICE_COOKIE_MAX_AGE = 60 * 60 * 24 * 365 * 2


class DeviceIdMiddleware:
    """Give every browser a long-lived random device id; login events record it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        device_id = request.COOKIES.get(DEVICE_COOKIE, "")
        is_new = not (16 <= len(device_id) <= 64 and device_id.isalnum())
        request.device_id = secrets.token_hex(16) if is_new else device_id
        response = self.get_response(request)
        if is_new:
            response.set_cookie(
                DEVICE_COOKIE,
                request.device_id,
                max_age=DEVICE_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


class PreferredLanguageMiddleware:
    """A signed-in user sees their preferred language unless they just chose another one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = user.preferred_language
        return self.get_response(request)


class AdminSecondFactorMiddleware:
    """With `ADMIN_REQUIRE_OTP`, a staff member signed in with only a password reaches no admin
    page: they are sent to enter a TOTP code, or to enrol one first if they have none.

    After `django_otp.middleware.OTPMiddleware` (which sets `request.user.is_verified()`).
    The admin's own login and logout pages stay open; the customer portal is not concerned."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.ADMIN_REQUIRE_OTP and self._needs_second_factor(request):
            name = "verify" if has_confirmed_second_factor(request.user) else "enrol"
            target = reverse(f"accounts:second_factor_{name}")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.path})}")
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request) -> bool:
        admin_root = reverse("admin:index")
        if not request.path.startswith(admin_root):
            return False
        if request.path in (reverse("admin:login"), reverse("admin:logout")):
            return False
        user = getattr(request, "user", None)
        return bool(
            user is not None and user.is_authenticated and user.is_staff and not user.is_verified()
        )
