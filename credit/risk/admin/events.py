"""Risk rules (thresholds editable), the flags they raise (confirm or clear), the customer
verifications they ask for, phone changes."""

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.phone import phone_masked
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from core.errors import DomainError
from credit.risk import rules as rule_services
from credit.risk.admin.base import json_block, note_action, refused
from credit.risk.approvals import rule_change_request
from credit.risk.models import (
    PhoneChange,
    RiskFlag,
    RiskRule,
    RiskRuleVersion,
    VerificationChallenge,
)
from credit.services.approvals import approval_sent_message


class RiskRuleVersionInline(ReadOnlyTabularInline):
    model = RiskRuleVersion
    fields = ("version", "values", "previous", "requested_by", "approved_by", "created_at")
    ordering = ("-version",)


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "enabled", "threshold", "window_minutes", "action", "explanation")
    fields = (
        "code",
        "enabled",
        "threshold",
        "window_minutes",
        "lookback_minutes",
        "action",
        "explanation",
    )
    readonly_fields = ("code", "explanation")
    inlines = (RiskRuleVersionInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Never a bare save: the change waits for a second risk manager (four eyes)."""
        obj._approval_message = None
        try:
            approval = rule_change_request(
                rule=obj,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            refused(request, exc, obj)
        else:
            obj._approval_message = approval_sent_message(approval)

    def save_related(self, request, form, formsets, change):
        """Nothing related is written here (versions come from approvals)."""

    def construct_change_message(self, request, form, formsets, add=False):
        return []

    def log_change(self, request, obj, message):
        """The approval request is the record of the change."""

    def response_change(self, request, obj):
        if obj._approval_message:
            messages.warning(request, obj._approval_message)
        return HttpResponseRedirect(reverse("admin:risk_riskrule_changelist"))


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
        "verification_list",
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
        return json_block(obj.evidence)

    @admin.display(description=_("accounts"))
    def account_list(self, obj):
        return ", ".join(f"#{a.pk} [{a.status}]" for a in obj.accounts.all()) or "-"

    @admin.display(description=_("verifications"))
    def verification_list(self, obj):
        return (
            ", ".join(
                f"#{c.account_id} [{c.status}]"
                for c in obj.verification_challenges.order_by("account_id")
            )
            or "-"
        )

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

    @admin.action(
        description=_("Clear: a false alarm (lifts its freeze, cancels its verifications)"),
        permissions=["review"],
    )
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
    list_display = ("user", "old_number", "new_number", "changed_at", "actor")
    list_select_related = ("user", "actor")
    search_fields = ("old_phone", "new_phone")
    fields = ("user", "old_number", "new_number", "changed_at", "actor")
    readonly_fields = fields

    @admin.display(description=_("old number"), ordering="old_phone")
    def old_number(self, change):
        return phone_masked(change.old_phone)

    @admin.display(description=_("new number"), ordering="new_phone")
    def new_number(self, change):
        return phone_masked(change.new_phone)


@admin.register(VerificationChallenge)
class VerificationChallengeAdmin(ReadOnlyAdmin):
    """What customers were asked to verify, and how it ended (the code is never shown)."""

    list_display = ("id", "account", "flag", "status", "created_at", "expires_at", "attempts")
    list_filter = ("status",)
    list_select_related = ("account__customer", "flag")
    exclude = ("code_hash",)
