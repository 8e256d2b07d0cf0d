from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken

from accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from accounts.models import CustomerProfile, LoginEvent, User
from accounts.services import TOKEN_PREFIX_LENGTH, api_tokens_revoke_by_staff
from core.admin import ReadOnlyAdmin


class CustomerProfileInline(admin.StackedInline):
    model = CustomerProfile
    can_delete = False
    readonly_fields = ("national_id_hash", "national_id_last4", "created_at", "updated_at")
    fields = ("real_name", "province_code", "kyc_status", "national_id_last4", "national_id_hash")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    ordering = ("-joined_at",)
    list_display = ("phone", "email", "preferred_language", "is_staff", "is_active", "joined_at")
    list_filter = ("is_staff", "is_active", "groups", "preferred_language")
    search_fields = ("phone", "email", "profile__real_name")
    readonly_fields = ("joined_at", "last_login")
    inlines = [CustomerProfileInline]
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


@admin.register(CustomerProfile)
class CustomerProfileAdmin(admin.ModelAdmin):
    list_display = ("real_name", "user", "province_code", "kyc_status", "national_id_last4")
    list_filter = ("kyc_status", "province_code")
    search_fields = ("real_name", "user__phone", "national_id_last4")
    list_select_related = ("user",)
    readonly_fields = ("user", "national_id_hash", "national_id_last4", "created_at", "updated_at")


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
