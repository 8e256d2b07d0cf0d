"""The four-eyes queue: what waits for whom. Approve, reject and cancel call the services
(credit/services/approvals.py), which refuse the maker approving their own request and anyone
without the permission; the admin only shows the buttons."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from credit.models import ApprovalRequest, ApprovalStatus
from credit.risk.admin.base import note_action
from credit.services.approvals import (
    DECIDE,
    approval_approve,
    approval_cancel,
    approval_reject,
    approval_waits_for,
)


class StatusFilter(admin.SimpleListFilter):
    """Pending first: the queue is what waits."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ApprovalStatus.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or ApprovalStatus.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or ApprovalStatus.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "summary",
        "maker",
        "age",
        "expires_at",
        "waits_for",
        "status",
        "checker",
        "decided_at",
    )
    list_filter = (StatusFilter, "kind")
    list_select_related = ("maker", "checker")
    search_fields = ("summary",)
    actions = ["approve", "reject", "cancel"]
    fields = (
        "kind",
        "summary",
        "target",
        "payload",
        "maker",
        "reason",
        "created_at",
        "expires_at",
        "status",
        "checker",
        "decided_at",
        "note",
        "outcome",
    )
    readonly_fields = (*fields,)

    def get_list_display(self, request):
        """The pending queue (the default view) leaves out what only a decided request has,
        so the table fits beside the filters."""
        shown = super().get_list_display(request)
        if request.GET.get(StatusFilter.parameter_name, ApprovalStatus.PENDING) == (
            ApprovalStatus.PENDING
        ):
            return [name for name in shown if name not in ("status", "checker", "decided_at")]
        return shown

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("target_content_type")

    def get_ordering(self, request):
        return ["expires_at", "pk"]

    def has_decide_permission(self, request):
        return request.user.has_perm(DECIDE)

    @admin.display(description=_("what"))
    def target(self, obj):
        return obj.reference

    @admin.display(description=_("waiting for"))
    def age(self, obj):
        return timesince(obj.created_at, timezone.now())

    @admin.display(description=_("needs"))
    def waits_for(self, obj):
        return approval_waits_for(obj) if obj.status == ApprovalStatus.PENDING else "-"

    def _each(self, request, queryset, call, done_message):
        for approval in queryset:
            try:
                call(approval)
            except DomainError as refused:
                messages.error(
                    request,
                    _("Request #%(id)s: refused — %(why)s")
                    % {"id": approval.pk, "why": refused.message},
                )
            else:
                messages.success(request, done_message % {"id": approval.pk})

    @admin.action(
        description=_("Approve (and apply) the selected requests"), permissions=["decide"]
    )
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda approval: approval_approve(
                request=approval, actor=request.user, now=timezone.now()
            ),
            _("Request #%(id)s approved and applied."),
        )

    @admin.action(description=_("Reject the selected requests"), permissions=["decide"])
    def reject(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=str(_("Reject requests")),
            call=lambda approval, note: approval_reject(
                request=approval, actor=request.user, now=timezone.now(), note=note
            ),
        )

    @admin.action(description=_("Cancel my selected requests"), permissions=["view"])
    def cancel(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda approval: approval_cancel(
                request=approval, actor=request.user, now=timezone.now()
            ),
            _("Request #%(id)s cancelled."),
        )
