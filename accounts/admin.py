from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import UserAdminChangeForm, UserAdminCreationForm
from accounts.models import CustomerProfile, LoginEvent, User
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
