"""The risk staff console: policies, runs (summary, approval, rollback), decisions, pending
decreases, rules and flags. Every action calls a service with `actor=request.user`."""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.reasons import reason_texts
from credit.risk import pending as pending_services
from credit.risk import rules as rule_services
from credit.risk.models import (
    PendingLimitDecrease,
    PhoneChange,
    RegionalMultiplier,
    RescoringDecision,
    RescoringRun,
    RiskFlag,
    RiskPolicy,
    RiskPolicyActivation,
    RiskRule,
    RunStatus,
    SeasonalCampaign,
)
from credit.risk.policy import policy_activate, policy_duplicate, policy_is_frozen
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_approve, run_discard
from credit.risk.scorecard import scoring_model
from credit.risk.tasks import run_execute


def _error(request, exc: DomainError, obj) -> None:
    messages.error(request, f"{obj}: {exc.message}")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


def note_action(modeladmin, request, queryset, *, title: str, call) -> TemplateResponse | None:
    """An action that asks for a note first, then calls `call(obj, note)` for each object."""
    if request.POST.get("confirm") == "yes":
        form = NoteForm(request.POST)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    call(obj, form.cleaned_data["note"])
                    done += 1
                except DomainError as exc:
                    _error(request, exc, obj)
            if done:
                messages.success(request, _("%(title)s: %(n)s done.") % {"title": title, "n": done})
            return None
    else:
        form = NoteForm()
    return TemplateResponse(
        request,
        "admin/risk/note_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "objects": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _json(value) -> str:
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )


# --- policy ------------------------------------------------------------------------------
class RegionalMultiplierInline(admin.TabularInline):
    model = RegionalMultiplier
    extra = 0


class SeasonalCampaignInline(admin.TabularInline):
    model = SeasonalCampaign
    extra = 0


@admin.register(RiskPolicy)
class RiskPolicyAdmin(admin.ModelAdmin):
    list_display = ("version", "name", "is_active", "activated_at", "activated_by")
    inlines = [RegionalMultiplierInline, SeasonalCampaignInline]
    actions = ["activate", "duplicate"]
    readonly_fields = (
        "version",
        "is_active",
        "created_at",
        "created_by",
        "activated_at",
        "activated_by",
        "bands_table",
        "scorecard_table",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("activated_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and policy_is_frozen(obj):
            return [f.name for f in self.model._meta.fields] + ["bands_table", "scorecard_table"]
        return self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines

    def has_change_permission(self, request, obj=None):
        if obj is not None and policy_is_frozen(obj):
            return False  # activated versions never change; duplicate them instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (policy_is_frozen(obj) or obj.runs.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def has_activate_permission(self, request):
        return request.user.has_perm("risk.activate_riskpolicy")

    def save_model(self, request, obj, form, change):
        if not change:
            last = RiskPolicy.objects.order_by("-version").values_list("version", flat=True).first()
            obj.version = (last or 0) + 1
            obj.created_at, obj.created_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("score bands"))
    def bands_table(self, obj):
        if obj is None or not obj.score_bands:
            return "-"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th></tr>{}</table>",
            _("score from"),
            _("base limit"),
            format_html_join(
                "", "<tr><td>{}</td><td>¥{}</td></tr>", ((s, limit) for s, limit in obj.bands())
            ),
        )

    @admin.display(description=_("scorecard (points per band)"))
    def scorecard_table(self, obj):
        rows = []
        for row in getattr(scoring_model(), "table", lambda: [])():
            bands = ", ".join(
                f"{'' if low is None else low}…{'' if high is None else high} → {points:+d}"
                for low, high, points in row["bands"]
            )
            rows.append((row["label"], bands, row["reason"]))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.action(description=_("Activate the selected policy version"), permissions=["activate"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one policy version to activate."))
            return
        policy = queryset.get()
        try:
            policy_activate(policy=policy, actor=request.user, now=timezone.now())
        except DomainError as exc:
            _error(request, exc, policy)
            return
        messages.success(request, _("%(policy)s is now the active policy.") % {"policy": policy})

    @admin.action(description=_("Duplicate as a new draft"), permissions=["add"])
    def duplicate(self, request, queryset):
        for policy in queryset:
            draft = policy_duplicate(policy=policy, actor=request.user, now=timezone.now())
            messages.success(request, _("Draft %(draft)s created.") % {"draft": draft})


@admin.register(RiskPolicyActivation)
class RiskPolicyActivationAdmin(ReadOnlyAdmin):
    list_display = ("policy", "previous", "activated_by", "activated_at")
    list_select_related = ("policy", "previous", "activated_by")


# --- runs --------------------------------------------------------------------------------
@admin.register(RescoringRun)
class RescoringRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "as_of",
        "dry_run",
        "status",
        "scored",
        "actions_line",
        "cut_percent",
        "mean_score",
        "planned_at",
        "finished_at",
    )
    list_filter = ("status", "dry_run")
    list_select_related = ("policy",)
    actions = ["approve", "discard", "rollback"]
    fields = (
        "status",
        "as_of",
        "dry_run",
        "policy",
        "model_name",
        "summary_view",
        "breaker_view",
        "progress",
        "rollback_view",
        "approved_by",
        "approved_at",
        "rolled_back_by",
        "rolled_back_at",
        "attempts",
        "last_error",
        "planned_at",
        "started_at",
        "finished_at",
        "created_by",
        "note",
    )
    readonly_fields = fields

    def has_approve_permission(self, request):
        return request.user.has_perm("risk.approve_rescoringrun")

    def has_rollback_permission(self, request):
        return request.user.has_perm("risk.rollback_rescoringrun")

    @admin.display(description=_("scored"))
    def scored(self, obj):
        return obj.summary.get("scored", "-")

    @admin.display(description=_("actions"))
    def actions_line(self, obj):
        counts = obj.summary.get("actions") or {}
        return " · ".join(f"{k} {v}" for k, v in counts.items()) or "-"

    @admin.display(description=_("cuts, %"))
    def cut_percent(self, obj):
        return obj.summary.get("cut_percent", "-")

    @admin.display(description=_("mean score"))
    def mean_score(self, obj):
        return obj.summary.get("mean_score", "-")

    @admin.display(description=_("summary"))
    def summary_view(self, obj):
        summary = obj.summary or {}
        if not summary:
            return "-"
        counts = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", (summary.get("actions") or {}).items()
        )
        pending = format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", (summary.get("pending") or {}).items()
        )
        top = max((b["accounts"] for b in summary.get("histogram", [])), default=0) or 1
        histogram = format_html_join(
            "",
            '<tr><td>{}–{}</td><td><span style="display:inline-block;background:#79aec8;'
            'height:0.8em;width:{}px"></span> {}</td></tr>',
            (
                (b["from"], b["to"], int(300 * b["accounts"] / top), b["accounts"])
                for b in summary.get("histogram", [])
            ),
        )
        reasons = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (r["code"], reason_texts([r["code"]])[0], r["accounts"])
                for r in summary.get("top_cut_reasons", [])
            ),
        )
        return format_html(
            "<p>{}: {} · {}: {} · {}: {}%</p>"
            "<h4>{}</h4><table>{}</table><h4>{}</h4><table>{}</table>"
            "<h4>{}</h4><table>{}</table><h4>{}</h4><table>{}</table>{}",
            _("scored"),
            summary.get("scored"),
            _("mean score"),
            summary.get("mean_score"),
            _("cuts"),
            summary.get("cut_percent"),
            _("Accounts per action"),
            counts,
            _("Announced decreases"),
            pending,
            _("Score histogram"),
            histogram,
            _("Top reasons of the cuts"),
            reasons,
            _json(summary["applied"]) if "applied" in summary else "",
        )

    @admin.display(description=_("circuit breaker"))
    def breaker_view(self, obj):
        breaker = (obj.summary or {}).get("breaker")
        if not breaker:
            return "-"
        if not breaker["tripped"]:
            return _("did not trip")
        return format_html(
            "<strong>{}</strong><ul>{}</ul>",
            _("tripped"),
            format_html_join("", "<li>{}</li>", ((r,) for r in breaker["reasons"])),
        )

    @admin.display(description=_("chunks scored / applied"))
    def progress(self, obj):
        chunks = obj.chunks.all()
        total = chunks.count()
        return (
            f"{chunks.filter(scored_at__isnull=False).count()}/{total} · "
            f"{chunks.filter(applied_at__isnull=False).count()}/{total}"
        )

    @admin.display(description=_("rollback report"))
    def rollback_view(self, obj):
        report = obj.rollback_report or {}
        if not report:
            return "-"
        skipped = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    s["account_id"],
                    s.get("later_limit_change_id") or "",
                    s.get("later_kind") or "",
                    s["reason"],
                )
                for s in report.get("skipped", [])[:500]
            ),
        )
        return format_html(
            "<p>{}: {} ({} {}) · {}: {} · {}: {}</p><table>{}</table>",
            _("reverted"),
            report.get("reverted"),
            report.get("reverted_with_status_change"),
            _("with a status change"),
            _("skipped, changed since"),
            report.get("skipped_count"),
            _("announcements cancelled"),
            report.get("pending_cancelled"),
            skipped,
        )

    @admin.action(description=_("Approve: apply the held run"), permissions=["approve"])
    def approve(self, request, queryset):
        for run in queryset:
            try:
                run_approve(
                    run=run, actor=request.user, now=timezone.now(), note="approved in the admin"
                )
            except DomainError as exc:
                _error(request, exc, run)
                continue
            transaction.on_commit(lambda pk=run.pk: run_execute.delay(run_id=pk))
            messages.success(request, _("%(run)s approved; it is being applied.") % {"run": run})

    @admin.action(description=_("Discard: apply nothing of the held run"), permissions=["approve"])
    def discard(self, request, queryset):
        for run in queryset:
            try:
                run_discard(
                    run=run, actor=request.user, now=timezone.now(), note="discarded in the admin"
                )
            except DomainError as exc:
                _error(request, exc, run)
                continue
            messages.success(request, _("%(run)s discarded.") % {"run": run})

    @admin.action(
        description=_("Roll back: revert every change of the run"), permissions=["rollback"]
    )
    def rollback(self, request, queryset):
        return note_action(
            self,
            request,
            queryset.filter(status__in=[RunStatus.APPLIED, RunStatus.FAILED]),
            title=str(_("Roll back rescoring runs")),
            call=lambda run, note: run_rollback(
                run=run, actor=request.user, now=timezone.now(), note=note
            ),
        )


@admin.register(RescoringDecision)
class RescoringDecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "run_id",
        "account_id",
        "score",
        "action",
        "pending_action",
        "old_base_limit",
        "new_base_limit",
        "proposed_limit",
        "reasons",
    )
    list_filter = ("action", "pending_action", "kind")
    search_fields = ("=account__id", "=run__id")
    ordering = ("-id",)

    @admin.display(description=_("reasons"))
    def reasons(self, obj):
        return "; ".join(reason_texts(obj.reason_codes))


# --- cooling-off -------------------------------------------------------------------------
@admin.register(PendingLimitDecrease)
class PendingLimitDecreaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "account_id",
        "old_effective_limit",
        "new_effective_limit",
        "status",
        "effective_at",
        "created_at",
        "reasons",
    )
    list_filter = ("status",)
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


# --- risk events -------------------------------------------------------------------------
@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "enabled", "threshold", "window_minutes", "freeze", "explanation")
    fields = (
        "code",
        "enabled",
        "threshold",
        "window_minutes",
        "lookback_minutes",
        "freeze",
        "explanation",
    )
    readonly_fields = ("code", "explanation")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(RiskFlag)
class RiskFlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "rule", "subject", "status", "account_count", "created_at", "reviewed_by")
    list_filter = ("status", "rule")
    search_fields = ("subject",)
    actions = ["confirm", "clear"]
    fields = (
        "rule",
        "subject",
        "status",
        "explanation",
        "evidence_view",
        "account_list",
        "froze_accounts",
        "created_at",
        "updated_at",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("reviewed_by")
            .annotate(n=Count("accounts"))
        )

    def has_review_permission(self, request):
        return request.user.has_perm("risk.review_riskflag")

    @admin.display(description=_("accounts"))
    def account_count(self, obj):
        return obj.n

    @admin.display(description=_("evidence"))
    def evidence_view(self, obj):
        return _json(obj.evidence)

    @admin.display(description=_("accounts"))
    def account_list(self, obj):
        return ", ".join(f"#{a.pk} [{a.status}]" for a in obj.accounts.all()) or "-"

    @admin.action(description=_("Confirm: the finding is real"), permissions=["review"])
    def confirm(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=str(_("Confirm risk flags")),
            call=lambda flag, note: rule_services.flag_confirm(
                flag=flag, actor=request.user, now=timezone.now(), note=note
            ),
        )

    @admin.action(description=_("Clear: a false alarm (lifts its freeze)"), permissions=["review"])
    def clear(self, request, queryset):
        return note_action(
            self,
            request,
            queryset,
            title=str(_("Clear risk flags")),
            call=lambda flag, note: rule_services.flag_clear(
                flag=flag, actor=request.user, now=timezone.now(), note=note
            ),
        )


@admin.register(PhoneChange)
class PhoneChangeAdmin(ReadOnlyAdmin):
    list_display = ("user", "old_phone", "new_phone", "changed_at", "actor")
    list_select_related = ("user", "actor")
    search_fields = ("old_phone", "new_phone")
