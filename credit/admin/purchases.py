"""Merchants, purchases and installment plans, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from credit.models import Installment, InstallmentPlan, Merchant, Purchase


@admin.register(Merchant)
class MerchantAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "name",
        "api_key_prefix",
        "is_active",
        "single_purchase_max",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "api_key_prefix")
    exclude = ("api_key_hash",)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "merchant",
        "amount",
        "term_months",
        "status",
        "refunded_amount",
        "merchant_reference",
    )
    list_filter = ("status", "term_months")
    search_fields = ("account__customer__phone", "merchant__name", "merchant_reference", "=id")
    list_select_related = ("account__customer", "merchant")
    date_hierarchy = "created_at"


class InstallmentInline(ReadOnlyTabularInline):
    model = Installment
    fields = (
        "sequence",
        "due_date",
        "status",
        "principal",
        "fee",
        "penalty",
        "principal_paid",
        "fee_paid",
        "penalty_paid",
        "principal_refunded",
        "fee_waived",
        "penalty_waived",
        "days_past_due",
        "paid_at",
    )
    ordering = ("sequence",)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_installmentplan")


@admin.register(InstallmentPlan)
class InstallmentPlanAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "principal",
        "term_months",
        "monthly_fee_rate",
        "total_fee",
        "annual_rate",
        "status",
    )
    list_filter = ("status", "term_months")
    search_fields = ("account__customer__phone", "=id", "=purchase__id")
    list_select_related = ("account__customer",)
    date_hierarchy = "created_at"
    inlines = (InstallmentInline,)
