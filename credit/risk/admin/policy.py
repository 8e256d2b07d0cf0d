"""Policy versions (editable until activated, then duplicated instead) and activations."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from credit.models import ApprovalRequest
from credit.money import yuan
from credit.risk.admin.base import refused
from credit.risk.models import (
    RegionalMultiplier,
    RiskPolicy,
    RiskPolicyActivation,
    SeasonalCampaign,
)
from credit.risk.policy import policy_activate, policy_duplicate, policy_is_frozen
from credit.risk.scorecard import scoring_model
from credit.services.approvals import approval_sent_message


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
                "",
                "<tr><td>{}</td><td>{}</td></tr>",
                ((s, yuan(limit)) for s, limit in obj.bands()),
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
            result = policy_activate(policy=policy, actor=request.user, now=timezone.now())
        except DomainError as exc:
            refused(request, exc, policy)
            return
        if isinstance(result, ApprovalRequest):
            messages.warning(request, approval_sent_message(result))
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
