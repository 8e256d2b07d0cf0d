"""Temporary limit grants and the limit history, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from credit.models import LimitChange, TemporaryLimitGrant


@admin.register(TemporaryLimitGrant)
class TemporaryLimitGrantAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "account",
        "amount",
        "status",
        "starts_at",
        "ends_at",
        "campaign",
        "granted_by",
    )
    list_filter = ("status", "campaign")
    search_fields = ("account__customer__phone", "campaign", "reason")
    list_select_related = ("account__customer", "granted_by")
    date_hierarchy = "starts_at"


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "kind",
        "old_base_limit",
        "new_base_limit",
        "old_effective_limit",
        "new_effective_limit",
        "reason_codes",
        "actor",
        "run_id",
    )
    list_filter = ("kind",)
    search_fields = ("account__customer__phone", "=run_id", "note")
    list_select_related = ("account__customer", "actor")
    date_hierarchy = "created_at"
