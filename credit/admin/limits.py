"""Temporary limit grants, the limit history and decision reversals, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from credit.models import DecisionReversal, LimitChange, TemporaryLimitGrant


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


@admin.register(DecisionReversal)
class DecisionReversalAdmin(ReadOnlyAdmin):
    """Wrong decisions reversed as our error, each linked to the decision it reverses."""

    list_display = (
        "id",
        "created_at",
        "account",
        "decision",
        "source",
        "source_ref",
        "wrong_type",
        "wrong_id",
        "status_before",
        "status_after",
        "limit_before",
        "limit_after",
        "penalty_waived",
        "actor",
    )
    list_filter = ("decision", "source")
    search_fields = ("account__customer__phone", "=account__id", "source_ref", "reason")
    list_select_related = ("account__customer", "actor", "wrong_type")
    date_hierarchy = "created_at"
