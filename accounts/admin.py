from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken

from accounts import services
from accounts.forms import PiiRevealForm, UserAdminChangeForm, UserAdminCreationForm
from accounts.models import (
    CustomerProfile,
    LoginEvent,
    PiiField,
    PiiReveal,
    SecondFactorReset,
    User,
)
from accounts.phone import phones_masked_in
from accounts.pii import masked_national_id, masked_phone, reveal_operations
from accounts.services import TOKEN_PREFIX_LENGTH, api_tokens_revoke_by_staff
from core.admin import ReadOnlyAdmin
from core.errors import DomainError


class CustomerProfileInline(admin.StackedInline):
    model = CustomerProfile
    can_delete = False
    readonly_fields = ("national_id_shown", "national_id_hash", "created_at", "updated_at")
    fields = ("real_name", "province_code", "kyc_status", "national_id_shown", "national_id_hash")

    national_id_shown = staticmethod(masked_national_id)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ("-joined_at",)
    list_display = (
        "phone_shown",
        "email",
        "preferred_language",
        "is_staff",
        "is_active",
        "joined_at",
    )
    list_filter = ("is_staff", "is_active", "groups", "preferred_language")
    search_fields = ("phone", "email", "profile__real_name")
    readonly_fields = ("joined_at", "last_login", "phone_shown")
    inlines = [CustomerProfileInline]
    actions = ["reset_second_factor"]
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Contact and language"), {"fields": ("email", "preferred_language")}),
        (
            _("Access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "joined_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("phone", "usable_password", "password1", "password2"),
            },
        ),
    )

    phone_shown = staticmethod(masked_phone)

    def get_fieldsets(self, request, obj=None):
        """Only a superuser sees (and edits) the number in the form; other staff see it masked,
        read-only, and reach the full number only through "Show full number"."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return tuple(
            (
                name,
                {
                    **opts,
                    "fields": tuple("phone_shown" if f == "phone" else f for f in opts["fields"]),
                },
            )
            for name, opts in fieldsets
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["operations"] = reveal_operations(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        reveal = self.admin_site.admin_view(self.reveal_view)
        return [path("<int:pk>/reveal/", reveal, name="accounts_user_reveal"), *super().get_urls()]

    def reveal_view(self, request, pk: int):
        """A reason, then the full number on this response only (`services.pii_reveal` checks
        the permission and writes the audit row); refused with a message otherwise."""
        customer = get_object_or_404(User, pk=pk)
        change_url = reverse("admin:accounts_user_change", args=[customer.pk])
        if not request.user.has_perm(services.REVEAL_PII):
            messages.error(request, _("You may not see full mobile numbers."))
            return HttpResponseRedirect(change_url)
        form = PiiRevealForm(request.POST or None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            try:
                revealed = services.pii_reveal(
                    actor=request.user,
                    user=customer,
                    field=PiiField.PHONE,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except DomainError as exc:
                messages.error(request, str(exc))
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Show full number"),
            "customer": customer,
            "form": form,
            "revealed": revealed,
        }
        response = TemplateResponse(request, "accounts/admin/pii_reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Reset the second factor (lost phone)"), permissions=["reset"])
    def reset_second_factor(self, request, queryset):
        now = timezone.now()
        for user in queryset.order_by("pk"):
            services.second_factor_reset(actor=request.user, user=user, now=now)
        count = queryset.count()
        self.message_user(
            request,
            ngettext(
                "The second factor of %(count)d user was reset; they enrol again at sign-in.",
                "The second factor of %(count)d users was reset; they enrol again at sign-in.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_reset_permission(self, request):
        return request.user.is_superuser


@admin.register(CustomerProfile)
class CustomerProfileAdmin(admin.ModelAdmin):
    list_display = ("real_name", "user", "province_code", "kyc_status", "national_id_shown")
    list_filter = ("kyc_status", "province_code")
    search_fields = ("real_name", "user__phone", "national_id_last4")
    list_select_related = ("user",)
    readonly_fields = ("user", "national_id_hash", "national_id_shown", "created_at", "updated_at")
    exclude = ("national_id_last4",)

    national_id_shown = staticmethod(masked_national_id)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["operations"] = reveal_operations(request, obj.user if obj else None)
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ("user", "occurred_at", "ip_address", "device_id", "is_new_device")
    list_filter = ("is_new_device",)
    search_fields = ("user__phone", "ip_address", "device_id")
    date_hierarchy = "occurred_at"
    list_select_related = ("user",)


# --- customer API tokens: prefixes only --------------------------------------------------------

admin.site.unregister(AuthToken)  # knox's own admin lists the digests and adds tokens


def _token_handle(token: AuthToken) -> str:
    """How a page names a token: its prefix and a keyed hash of its digest. The primary key
    is the digest, which no page shows; the handle cannot be turned back into either."""
    mac = salted_hmac("accounts.admin.api-token", token.digest).hexdigest()[:20]
    return f"{token.token_key[:TOKEN_PREFIX_LENGTH]}.{mac}"


def _digests_of(handles: list[str]) -> list[str]:
    digests = []
    for handle in handles:
        prefix, _dot, _mac = handle.partition(".")
        if len(prefix) != TOKEN_PREFIX_LENGTH:
            continue
        for token in AuthToken.objects.filter(token_key__startswith=prefix):
            if constant_time_compare(_token_handle(token), handle):
                digests.append(token.digest)
    return digests


@admin.register(AuthToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Customers' API tokens: prefix, customer, issued, expiry; never the digest. No detail
    page, no add or change; staff who may (knox.delete_authtoken) revoke tokens."""

    list_display = ("token_prefix", "user", "created", "expiry")
    list_display_links = None
    list_select_related = ("user",)
    search_fields = ("user__phone",)
    ordering = ("-created",)
    actions = ["revoke"]

    def get_urls(self):
        # The list only: every other page would be addressed by the digest.
        return [url for url in super().get_urls() if url.name and url.name.endswith("changelist")]

    @admin.display(description=_("token prefix"))
    def token_prefix(self, obj):
        return f"{obj.token_key[:TOKEN_PREFIX_LENGTH]}…"

    def action_checkbox(self, obj):
        # Django's names the row by its primary key and str(): here, both are the digest.
        checkbox = forms.CheckboxInput({"class": "action-select"}, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, _token_handle(obj))

    def response_action(self, request, queryset):
        post = request.POST.copy()
        post.setlist(
            helpers.ACTION_CHECKBOX_NAME,
            _digests_of(post.getlist(helpers.ACTION_CHECKBOX_NAME)),
        )
        request.POST = post
        return super().response_action(request, queryset)

    def has_revoke_permission(self, request):
        return request.user.has_perm("knox.delete_authtoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        count = api_tokens_revoke_by_staff(actor=request.user, tokens=queryset, now=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(PiiReveal)
class PiiRevealAdmin(ReadOnlyAdmin):
    """Who saw which customer's full number, and why (auditors read it)."""

    list_display = ("revealed_at", "actor", "user", "field", "reason")
    list_filter = ("field",)
    search_fields = ("actor__phone", "user__phone", "reason")
    date_hierarchy = "revealed_at"
    list_select_related = ("actor", "user")


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(ReadOnlyAdmin):
    list_display = ("reset_at", "actor", "user", "devices_removed")
    list_select_related = ("actor", "user")


# --- django-axes' sign-in records: the number tried, masked like every other ----------------

# The fields of axes' records that may hold a number: the one typed, and the form data sent.
_AXES_NUMBER_FIELDS = ("username", "get_data", "post_data")


class MaskedSignInRecords:
    """axes' admins show the number tried and the raw form data in full; these show them
    masked (`phones_masked_in`), in the list and on the record's page. Searching by a number
    still works (the admin search keeps it out of the URL)."""

    def get_list_display(self, request):
        return [_masked_name(name) for name in super().get_list_display(request)]

    def get_readonly_fields(self, request, obj=None):
        return [_masked_name(name) for name in super().get_readonly_fields(request, obj)]

    def get_fieldsets(self, request, obj=None):
        return [
            (title, {**options, "fields": [_masked_name(name) for name in options["fields"]]})
            for title, options in super().get_fieldsets(request, obj)
        ]

    @admin.display(description=_("username"))
    def username_masked(self, obj):
        return phones_masked_in(obj.username or "")

    @admin.display(description=_("GET data"))
    def get_data_masked(self, obj):
        return phones_masked_in(obj.get_data or "")

    @admin.display(description=_("POST data"))
    def post_data_masked(self, obj):
        return phones_masked_in(obj.post_data or "")


def _masked_name(name):
    return f"{name}_masked" if name in _AXES_NUMBER_FIELDS else name


for _model, _axes_admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    # Their str() names the number too (page titles, breadcrumbs, "Recent actions").
    _model.__str__ = lambda self, shown=_model.__str__: phones_masked_in(shown(self))
    admin.site.unregister(_model)
    admin.site.register(_model, type(_axes_admin.__name__, (MaskedSignInRecords, _axes_admin), {}))
