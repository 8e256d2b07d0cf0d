import base64

import segno
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts.forms import PhoneLoginForm, SecondFactorForm
from accounts.models import Language
from accounts.services import (
    SecondFactorAlreadyEnrolled,
    SecondFactorError,
    second_factor_check,
    second_factor_enrol_confirm,
    second_factor_enrolment,
    user_language_set,
)
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


# --- staff second factor: pages of the admin's look, outside /admin/ (no redirect loop) -------


def _admin_next(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, request.is_secure()
    ):
        return reverse("admin:index")
    return next_url


@staff_member_required
def second_factor_verify(request):
    """A code from the staff member's authenticator app marks this session verified."""
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_check(user=request.user, token=form.cleaned_data["token"])
        except SecondFactorError as exc:
            form.add_error("token", str(exc))
        else:
            otp_login(request, device)
            return HttpResponseRedirect(_admin_next(request))
    context = {
        **admin.site.each_context(request),
        "title": _("Second factor"),
        "form": form,
        "next": _admin_next(request),
    }
    return render(request, "accounts/second_factor_verify.html", context)


@staff_member_required
def second_factor_enrol(request):
    """First sign-in with the second factor on: scan the QR code, confirm with a first code.
    Only while the staff member has no confirmed device."""
    try:
        device = second_factor_enrolment(user=request.user)
    except SecondFactorAlreadyEnrolled:
        verify = reverse("accounts:second_factor_verify")
        return HttpResponseRedirect(f"{verify}?next={_admin_next(request)}")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_enrol_confirm(
                user=request.user, token=form.cleaned_data["token"]
            )
        except SecondFactorError as exc:
            form.add_error("token", str(exc))
        else:
            otp_login(request, device)
            return HttpResponseRedirect(_admin_next(request))
    context = {
        **admin.site.each_context(request),
        "title": _("Set up your second factor"),
        "form": form,
        "next": _admin_next(request),
        "secret": base64.b32encode(device.bin_key).decode(),
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4),
    }
    return render(request, "accounts/second_factor_enrol.html", context)
