"""The staff queue of appeals.

Nothing is saved from a model form here: every action (assign to me, ask for information,
decide, confirm, write) goes through an intermediate page that calls the service with
`actor=request.user`. Permissions: `review_appeal` (Risk officer, Risk manager) reviews and
decides; `confirm_appeal` (Risk manager) gives the second approval; `message_appeal`
(Support agent) writes to the customer; `view_*` (everyone, Auditor) reads.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from appeals import selectors, services
from appeals.forms import DecideForm, MessageForm, NoteForm, RequestInfoForm
from appeals.kinds import kind_of
from appeals.models import CLOCK_RUNNING_STATUSES, OPEN_STATUSES, Appeal, AppealStatus
from core.admin import ReadOnlyAdmin
from core.errors import DomainError

REVIEW = "appeals.review_appeal"
CONFIRM = "appeals.confirm_appeal"
MESSAGE = "appeals.message_appeal"


class SlaFilter(admin.SimpleListFilter):
    title = gettext_lazy("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("breached", gettext_lazy("Breached")),
            ("due_today", gettext_lazy("Due today")),
            ("paused", gettext_lazy("Paused (waiting for the customer)")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        running = Q(status__in=CLOCK_RUNNING_STATUSES)
        if self.value() == "breached":
            return queryset.filter(
                Q(status__in=OPEN_STATUSES)
                & (Q(sla_breached_at__isnull=False) | (running & Q(due_at__lt=now)))
            )
        if self.value() == "due_today":
            start, end = selectors.local_day_bounds(now)
            return queryset.filter(running, due_at__gte=max(start, now), due_at__lt=end)
        if self.value() == "paused":
            return queryset.filter(status=AppealStatus.NEEDS_INFO)
        return queryset


class ReviewerFilter(admin.SimpleListFilter):
    title = gettext_lazy("reviewer")
    parameter_name = "reviewer"

    def lookups(self, request, model_admin):
        reviewers = User.objects.filter(assigned_appeals__isnull=False).distinct().order_by("phone")
        return [
            ("me", gettext_lazy("Assigned to me")),
            ("none", gettext_lazy("Unassigned")),
            *[(str(u.pk), str(u)) for u in reviewers],
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


@dataclass(frozen=True)
class StaffAction:
    """One intermediate page: who may open it, its form, its words, and its one service call."""

    perms: tuple[str, ...]
    form: type
    title: str
    button: str
    success: str
    run: Callable  # (appeal, user, cleaned_data, now) -> object
    form_kwargs: Callable = lambda appeal: {}  # (appeal) -> extra arguments of the form


def _with_note(service):
    return lambda appeal, user, data, now: service(
        appeal=appeal, actor=user, note=data["note"], now=now
    )


STAFF_ACTIONS: dict[str, StaffAction] = {
    "request_info": StaffAction(
        (REVIEW,),
        RequestInfoForm,
        gettext_lazy("Ask the customer for information"),
        gettext_lazy("Send the question"),
        gettext_lazy("The customer was asked; the SLA clock is paused until they answer."),
        _with_note(services.appeal_request_info),
    ),
    "decide": StaffAction(
        (REVIEW,),
        DecideForm,
        gettext_lazy("Decide the appeal"),
        gettext_lazy("Record the decision"),
        gettext_lazy("Decision recorded."),
        lambda appeal, user, data, now: services.appeal_decide(
            appeal=appeal,
            actor=user,
            outcome=data["outcome"],
            note=data["note"],
            customer_reason=data["customer_reason"],
            now=now,
            **{name: data[name] for name in kind_of(appeal).decision_fields},
        ),
        lambda appeal: {"kind": kind_of(appeal)},
    ),
    "confirm": StaffAction(
        (CONFIRM,),
        NoteForm,
        gettext_lazy("Second approval"),
        gettext_lazy("Confirm the approval"),
        gettext_lazy("Approval confirmed; the decision has taken effect."),
        _with_note(services.appeal_confirm),
    ),
    "decline": StaffAction(
        (CONFIRM,),
        NoteForm,
        gettext_lazy("Send the approval back to review"),
        gettext_lazy("Send back"),
        gettext_lazy("The appeal is back in review."),
        _with_note(services.appeal_confirmation_decline),
    ),
    "message": StaffAction(
        (MESSAGE, REVIEW),
        MessageForm,
        gettext_lazy("Write to the customer"),
        gettext_lazy("Send"),
        gettext_lazy("Message sent."),
        lambda appeal, user, data, now: services.appeal_message_add(
            appeal=appeal, author=user, body=data["body"], now=now
        ),
    ),
}


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer",
        "type",
        "status",
        "submitted_at",
        "due_at",
        "sla_display",
        "assigned_to",
    ]
    list_filter = ["type", "status", SlaFilter, ReviewerFilter]
    list_select_related = ["customer", "assigned_to"]
    search_fields = ["=id", "customer__phone"]
    ordering = ["due_at"]
    actions = ["assign_to_me"]
    change_form_template = "appeals/admin/change_form.html"
    change_list_template = "appeals/admin/change_list.html"
    fieldsets = [
        (None, {"fields": ["customer", "account", "type", "reason", "status", "assigned_to"]}),
        (
            gettext_lazy("SLA"),
            {
                "fields": [
                    "submitted_at",
                    "due_at",
                    "paused_at",
                    "paused_seconds",
                    "sla_breached_at",
                ]
            },
        ),
        (
            gettext_lazy("Decision"),
            {
                "fields": [
                    "approved_by",
                    "approved_at",
                    "confirmed_by",
                    "decided_by",
                    "decided_at",
                    "restore_to",
                    "extension_days",
                    "restored_amount",
                    "decision_note",
                    "customer_reason",
                    "effect_reference",
                    "withdrawn_at",
                ]
            },
        ),
    ]
    readonly_fields = [f.name for f in Appeal._meta.concrete_fields if f.name != "id"]

    @admin.display(description=gettext_lazy("SLA"))
    def sla_display(self, appeal):
        state = selectors.sla_state(appeal, now=timezone.now())
        labels = {
            "breached": _("Breached"),
            "due_today": _("Due today"),
            "paused": _("Paused"),
            "on_time": _("On time"),
            "closed": "—",
        }
        return format_html('<span class="sla-{}">{}</span>', state, labels[state])

    @admin.action(description=gettext_lazy("Assign to me"), permissions=["review"])
    def assign_to_me(self, request, queryset):
        done = 0
        for appeal in queryset:
            try:
                services.appeal_assign(appeal=appeal, actor=request.user, now=timezone.now())
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{appeal.pk}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, _("%(n)d appeal(s) assigned to you.") % {"n": done})

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW)

    # --- URLs ---------------------------------------------------------------------------
    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("sla/", wrap(self.sla_summary_view), name="appeals_appeal_sla"),
            path("<int:pk>/assign/", wrap(self.assign_view), name="appeals_appeal_assign"),
            *(
                path(
                    f"<int:pk>/{name.replace('_', '-')}/",
                    wrap(partial(self.action_view, action=name)),
                    name=f"appeals_appeal_{name}",
                )
                for name in STAFF_ACTIONS
            ),
            *super().get_urls(),
        ]

    # --- change page: the appeal, its timeline and the account beside it -----------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        appeal = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if appeal is not None and self.has_view_permission(request, appeal):
            user = request.user
            extra |= {
                "appeal": appeal,
                "timeline": selectors.appeal_timeline(appeal=appeal, for_customer=False),
                "target_summary": selectors.appeal_target_summary(appeal),
                "sla_label": self.sla_display(appeal),
                "can_view_files": user.has_perm("appeals.view_appealattachment"),
                "can_review": user.has_perm(REVIEW) and appeal.status in OPEN_STATUSES,
                "can_confirm": user.has_perm(CONFIRM)
                and appeal.status == AppealStatus.AWAITING_CONFIRMATION,
                "can_message": (user.has_perm(MESSAGE) or user.has_perm(REVIEW)),
                **selectors.appeal_account_context(appeal=appeal),
            }
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def changelist_view(self, request, extra_context=None):
        extra = {"sla_summary": selectors.appeal_sla_summary(now=timezone.now())}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    def sla_summary_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Appeals: SLA dashboard"),
            "summary": selectors.appeal_sla_summary(now=timezone.now()),
        }
        return TemplateResponse(request, "appeals/admin/sla_summary.html", context)

    # --- intermediate pages -----------------------------------------------------------------
    def _change_url(self, appeal):
        return reverse("admin:appeals_appeal_change", args=[appeal.pk])

    def action_view(self, request, pk, *, action: str):
        """GET shows the action's form; POST makes its one service call with the user as actor."""
        spec = STAFF_ACTIONS[action]
        if not any(request.user.has_perm(perm) for perm in spec.perms):
            raise PermissionDenied
        appeal = get_object_or_404(Appeal, pk=pk)
        form = spec.form(request.POST or None, **spec.form_kwargs(appeal))
        if request.method == "POST" and form.is_valid():
            try:
                spec.run(appeal, request.user, form.cleaned_data, timezone.now())
            except DomainError as exc:
                if exc.http_status == 404:
                    raise Http404 from None
                form.add_error(None, str(exc.message))
            else:
                self.message_user(request, str(spec.success), messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(appeal))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": appeal,
            "appeal": appeal,
            "title": spec.title,
            "form": form,
            "button": spec.button,
            "target_summary": selectors.appeal_target_summary(appeal),
        }
        return TemplateResponse(request, "appeals/admin/action.html", context)

    def assign_view(self, request, pk):
        if not request.user.has_perm(REVIEW):
            raise PermissionDenied
        appeal = get_object_or_404(Appeal, pk=pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(appeal))
        try:
            services.appeal_assign(appeal=appeal, actor=request.user, now=timezone.now())
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("The appeal is assigned to you."), messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(appeal))
