"""The admin base classes every app's back office builds on.

Rows that services write (accounts, ledger, audit trails, the outbox…) are shown read-only:
staff change things only through operations that call the services, which check the
permissions themselves. An admin that lets staff add one kind of row overrides
`has_add_permission` and nothing else.
"""

from django.contrib import admin


class ReadOnly:
    """Staff look; nobody adds, edits or deletes a row here."""

    # `obj` is optional so one signature fits ModelAdmin (request) and inlines (request, obj).
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    # Audit and ledger tables only grow: skip the COUNT(*) over the whole table on a search.
    show_full_result_count = False


class ReadOnlyTabularInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
