from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import PhoneLoginForm
from accounts.models import Language
from accounts.services import user_language_set
from core.throttles import LoginIpThrottle, retry_after, throttled_message


class LoginView(auth_views.LoginView):
    form_class = PhoneLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Per address (core/throttles.py), before any password is checked or counted by axes.
        throttle = LoginIpThrottle()
        if not throttle.allow_request(request, self):
            wait = throttle.wait()
            context = self.get_context_data(
                form=self.get_form_class()(request), throttled=throttled_message(wait)
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(retry_after(wait))
            return response
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


@require_POST
def language_switch(request):
    """Switch the portal language; a signed-in user keeps the choice for notices too."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in Language.values:
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
        if request.user.is_authenticated:
            user_language_set(user=request.user, language=language)
    return response


@login_required
def profile(request):
    return render(
        request, "accounts/profile.html", {"profile": getattr(request.user, "profile", None)}
    )
