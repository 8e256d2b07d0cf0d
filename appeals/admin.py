"""The staff queue of appeals.

Nothing is saved from a model form here: every action (assign to me, ask for information,
decide, confirm, write) goes through an intermediate page that calls the service with
`actor=request.user`. Permissions: `review_appeal` (Risk officer, Risk manager) reviews and
decides; `confirm_appeal` (Risk manager) gives the second approval; `message_appeal`
(Support agent) writes to the customer; `view_*` (everyone, Auditor) reads.
"""

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
from appeals.models import CLOCK_RUNNING_STATUSES, OPEN_STATUSES, Appeal, AppealStatus
from config.errors import DomainError

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


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
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

    # --- read-only model admin: actions go through services -------------------------------
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

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
            path(
                "<int:pk>/request-info/",
                wrap(self.request_info_view),
                name="appeals_appeal_request_info",
            ),
            path("<int:pk>/decide/", wrap(self.decide_view), name="appeals_appeal_decide"),
            path("<int:pk>/confirm/", wrap(self.confirm_view), name="appeals_appeal_confirm"),
            path("<int:pk>/decline/", wrap(self.decline_view), name="appeals_appeal_decline"),
            path("<int:pk>/message/", wrap(self.message_view), name="appeals_appeal_message"),
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
    def _appeal(self, request, pk, perm):
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return get_object_or_404(Appeal, pk=pk)

    def _change_url(self, appeal):
        return reverse("admin:appeals_appeal_change", args=[appeal.pk])

    def _action_page(self, request, appeal, *, form, title, run, success, button):
        """GET shows the form; POST calls `run(cleaned_data)` (one service call)."""
        if request.method == "POST" and form.is_valid():
            try:
                run(form.cleaned_data)
            except DomainError as exc:
                if exc.http_status == 404:
                    raise Http404 from None
                form.add_error(None, str(exc.message))
            else:
                self.message_user(request, success, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(appeal))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": appeal,
            "appeal": appeal,
            "title": title,
            "form": form,
            "button": button,
            "target_summary": selectors.appeal_target_summary(appeal),
        }
        return TemplateResponse(request, "appeals/admin/action.html", context)

    def assign_view(self, request, pk):
        appeal = self._appeal(request, pk, REVIEW)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(appeal))
        try:
            services.appeal_assign(appeal=appeal, actor=request.user, now=timezone.now())
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("The appeal is assigned to you."), messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(appeal))

    def request_info_view(self, request, pk):
        appeal = self._appeal(request, pk, REVIEW)
        form = RequestInfoForm(request.POST or None)
        return self._action_page(
            request,
            appeal,
            form=form,
            title=_("Ask the customer for information"),
            button=_("Send the question"),
            success=_("The customer was asked; the SLA clock is paused until they answer."),
            run=lambda data: services.appeal_request_info(
                appeal=appeal, actor=request.user, note=data["note"], now=timezone.now()
            ),
        )

    def decide_view(self, request, pk):
        appeal = self._appeal(request, pk, REVIEW)
        form = DecideForm(request.POST or None)
        return self._action_page(
            request,
            appeal,
            form=form,
            title=_("Decide the appeal"),
            button=_("Record the decision"),
            success=_("Decision recorded."),
            run=lambda data: services.appeal_decide(
                appeal=appeal,
                actor=request.user,
                outcome=data["outcome"],
                note=data["note"],
                customer_reason=data["customer_reason"],
                restore_to=data["restore_to"],
                extension_days=data["extension_days"],
                now=timezone.now(),
            ),
        )

    def confirm_view(self, request, pk):
        appeal = self._appeal(request, pk, CONFIRM)
        form = NoteForm(request.POST or None)
        return self._action_page(
            request,
            appeal,
            form=form,
            title=_("Second approval"),
            button=_("Confirm the approval"),
            success=_("Approval confirmed; the decision has taken effect."),
            run=lambda data: services.appeal_confirm(
                appeal=appeal, actor=request.user, note=data["note"], now=timezone.now()
            ),
        )

    def decline_view(self, request, pk):
        appeal = self._appeal(request, pk, CONFIRM)
        form = NoteForm(request.POST or None)
        return self._action_page(
            request,
            appeal,
            form=form,
            title=_("Send the approval back to review"),
            button=_("Send back"),
            success=_("The appeal is back in review."),
            run=lambda data: services.appeal_confirmation_decline(
                appeal=appeal, actor=request.user, note=data["note"], now=timezone.now()
            ),
        )

    def message_view(self, request, pk):
        if not (request.user.has_perm(MESSAGE) or request.user.has_perm(REVIEW)):
            raise PermissionDenied
        appeal = get_object_or_404(Appeal, pk=pk)
        form = MessageForm(request.POST or None)
        return self._action_page(
            request,
            appeal,
            form=form,
            title=_("Write to the customer"),
            button=_("Send"),
            success=_("Message sent."),
            run=lambda data: services.appeal_message_add(
                appeal=appeal, author=request.user, body=data["body"], now=timezone.now()
            ),
        )
