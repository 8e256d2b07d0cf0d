import secrets

from django.conf import settings
from django.utils import translation

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
