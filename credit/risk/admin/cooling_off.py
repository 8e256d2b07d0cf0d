"""Announced limit decreases: risk staff confirm or cancel them, with a note."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.reasons import reason_texts
from credit.risk import pending as pending_services
from credit.risk.admin.base import note_action
from credit.risk.models import PendingLimitDecrease


@admin.register(PendingLimitDecrease)
class PendingLimitDecreaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "account_id",
        "kind",
        "announced_by",
        "old_effective_limit",
        "new_effective_limit",
        "status",
        "effective_at",
        "created_at",
        "reasons",
    )
    list_filter = ("status", "kind")
    search_fields = ("=account__id",)
    actions = ["confirm", "cancel"]

    def has_decide_permission(self, request):
        return request.user.has_perm("risk.decide_pendinglimitdecrease")

    @admin.display(description=_("reasons"))
    def reasons(self, obj):
        return "; ".join(reason_texts(obj.reason_codes))

    @admin.action(description=_("Confirm: apply the announced decrease"), permissions=["decide"])
    def confirm(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=str(_("Confirm announced limit decreases")),
            call=lambda pending, note: pending_services.pending_decrease_confirm(
                pending=pending, actor=request.user, now=timezone.now(), note=note
            ),
        )

    @admin.action(description=_("Cancel: keep the current limit"), permissions=["decide"])
    def cancel(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=str(_("Cancel announced limit decreases")),
            call=lambda pending, note: pending_services.pending_decrease_cancel(
                pending=pending, actor=request.user, now=timezone.now(), note=note
            ),
        )
