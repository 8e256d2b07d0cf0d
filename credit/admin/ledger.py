"""The journal: entries with their lines, read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from credit.models import JournalEntry, JournalLine


class JournalLineInline(ReadOnlyTabularInline):
    model = JournalLine
    fields = ("ledger_account", "debit", "credit")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_journalentry")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "reference", "account", "memo")
    list_filter = ("kind",)
    search_fields = ("reference", "account__customer__phone")
    list_select_related = ("account__customer",)
    date_hierarchy = "created_at"
    inlines = (JournalLineInline,)
