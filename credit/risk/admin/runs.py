"""Rescoring runs (summary, circuit breaker, approval, rollback) and their decisions."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.reasons import reason_texts
from credit.risk.admin.base import json_block, note_action, refused
from credit.risk.models import RescoringDecision, RescoringRun, RunStatus
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_approve, run_discard
from credit.risk.tasks import run_execute


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
            json_block(summary["applied"]) if "applied" in summary else "",
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
                refused(request, exc, run)
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
                refused(request, exc, run)
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
