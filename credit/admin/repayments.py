"""Repayments with their allocations, and refunds, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from credit.models import Refund, Repayment, RepaymentAllocation


class RepaymentAllocationInline(ReadOnlyTabularInline):
    model = RepaymentAllocation
    fields = ("installment", "component", "amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("installment")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_repayment")


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "received_at",
        "account",
        "amount",
        "channel",
        "payoff_plan",
        "fees_waived",
        "recorded_by",
    )
    list_filter = ("channel",)
    search_fields = ("account__customer__phone", "=id", "idempotency_key")
    list_select_related = ("account__customer", "payoff_plan", "recorded_by")
    date_hierarchy = "received_at"
    inlines = (RepaymentAllocationInline,)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "purchase",
        "amount",
        "principal_reduced",
        "fees_waived",
        "fees_returned",
        "credit_balance_added",
        "merchant_reference",
    )
    search_fields = ("purchase__account__customer__phone", "merchant_reference", "=purchase__id")
    list_select_related = ("purchase",)
    date_hierarchy = "created_at"
