"""Fee schedules: drafts are written and edited until activated, then never change."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from credit.models import ApprovalRequest, FeeSchedule, FeeScheduleTerm
from credit.services import fee_schedule_activate
from credit.services.approvals import approval_sent_message


def _is_draft(schedule: FeeSchedule) -> bool:
    """Never in force: plans point at the schedule they were sold under, so it stays as it was."""
    return not schedule.is_active and schedule.activated_at is None


class FeeScheduleTermInline(admin.TabularInline):
    model = FeeScheduleTerm
    extra = 0
    fields = ("term_months", "monthly_fee_rate")

    def _editable(self, request, obj):
        return request.user.has_perm("credit.change_feeschedule") and (
            obj is None or _is_draft(obj)
        )

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_feeschedule")


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    """Drafts may be written and edited until activated; activation checks the legal cap."""

    list_display = (
        "version",
        "name",
        "is_active",
        "annual_rate_cap",
        "penalty_daily_rate",
        "grace_days",
        "activated_at",
        "activated_by",
    )
    list_select_related = ("activated_by",)
    inlines = (FeeScheduleTermInline,)
    actions = ("activate",)
    readonly_fields = ("is_active", "created_at", "activated_at", "activated_by", "annual_rate_cap")
    show_full_result_count = False

    def get_changeform_initial_data(self, request):
        latest = FeeSchedule.objects.order_by("-version").values_list("version", flat=True).first()
        return {"version": (latest or 0) + 1}

    def has_change_permission(self, request, obj=None):
        # Plans point at the schedule they were sold under: once activated it never changes.
        return super().has_change_permission(request, obj) and (obj is None or _is_draft(obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if obj.created_at is None:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)

    def has_activate_permission(self, request):
        return request.user.has_perm("credit.activate_feeschedule")

    @admin.action(description=_("Activate the selected schedule"), permissions=["activate"])
    def activate(self, request, queryset):
        schedules = list(queryset[:2])
        if len(schedules) != 1:
            self.message_user(request, _("Select exactly one schedule."), messages.ERROR)
            return
        try:
            schedule = fee_schedule_activate(
                schedule=schedules[0], actor=request.user, now=timezone.now()
            )
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        else:
            if isinstance(schedule, ApprovalRequest):
                self.message_user(request, approval_sent_message(schedule), messages.WARNING)
                return
            self.message_user(request, _("%(schedule)s is now in force.") % {"schedule": schedule})
