"""The credit back office: every model read-only; changes only through forms that call services.

Staff act with `actor=request.user`, so each action leaves the same audit rows (LimitChange,
StateLog) and customer events as any other path. Permissions (accounts/roles.py):
freeze and unfreeze `credit.freeze_creditaccount`, set a limit
`credit.set_limit_creditaccount`, grant a temporary limit `credit.grant_temporary_limit`,
activate a fee schedule `credit.activate_feeschedule`. A refused action writes nothing and
says why; the FSM status field is never editable.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from core.errors import DomainError
from core.reasons import ReasonCode, reason_texts
from credit.models import (
    CreditAccount,
    FeeSchedule,
    FeeScheduleTerm,
    FreezeReason,
    Installment,
    InstallmentPlan,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    LimitChange,
    Merchant,
    Purchase,
    Refund,
    Repayment,
    RepaymentAllocation,
    TemporaryLimitGrant,
)
from credit.services import (
    account_freeze,
    account_unfreeze,
    fee_schedule_activate,
    limit_set,
    temporary_limit_grant,
)
from credit.services.permissions import FREEZE_ACCOUNT, GRANT_TEMPORARY_LIMIT, SET_LIMIT


def _table(headers, rows) -> str:
    """A small read-only table for the change page (rows are escaped by format_html_join)."""
    if not rows:
        return format_html("<p>{}</p>", _("None yet."))
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


# --- staff operations on accounts -------------------------------------------------------


class FreezeForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(r.value, r.label) for r in FreezeReason if r != FreezeReason.OVERDUE],
    )
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        account_freeze(
            account=account,
            reason=self.cleaned_data["reason"],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        return _("frozen")


class UnfreezeForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Reason shown to the customer"),
        choices=[
            (code.value, code.label)
            for code in (
                ReasonCode.STAFF_DECISION,
                ReasonCode.APPEAL_APPROVED,
                ReasonCode.IDENTITY_CHECK,
                ReasonCode.COMPLIANCE,
            )
        ],
    )
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        account = account_unfreeze(
            account=account,
            reason_codes=[self.cleaned_data["reason_code"]],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        return _("unfrozen, now %(status)s") % {"status": account.get_status_display()}


class SetLimitForm(forms.Form):
    new_base_limit = forms.DecimalField(
        label=_("New base limit (¥)"), min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    reason_code = forms.ChoiceField(label=_("Reason code"), choices=ReasonCode.choices)
    note = forms.CharField(
        label=_("Note (why, for the record)"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def apply(self, *, account, actor, now):
        change = limit_set(
            account=account,
            new_base_limit=self.cleaned_data["new_base_limit"],
            reason_codes=[self.cleaned_data["reason_code"]],
            note=self.cleaned_data["note"],
            actor=actor,
            now=now,
        )
        return _("limit %(old)s → %(new)s") % {
            "old": change.old_base_limit,
            "new": change.new_base_limit,
        }


class GrantForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Extra limit (¥)"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    starts_at = forms.SplitDateTimeField(label=_("Starts at"), widget=AdminSplitDateTime)
    ends_at = forms.SplitDateTimeField(label=_("Ends at"), widget=AdminSplitDateTime)
    campaign = forms.CharField(label=_("Campaign"), max_length=64, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise forms.ValidationError(_("The grant must end after it starts."))
        return data

    def apply(self, *, account, actor, now):
        grant = temporary_limit_grant(
            account=account,
            amount=self.cleaned_data["amount"],
            starts_at=self.cleaned_data["starts_at"],
            ends_at=self.cleaned_data["ends_at"],
            campaign=self.cleaned_data["campaign"],
            reason=self.cleaned_data["reason"],
            actor=actor,
            now=now,
        )
        return _("temporary limit +%(amount)s (%(status)s)") % {
            "amount": grant.amount,
            "status": grant.get_status_display(),
        }


# operation → (form, permission, title)
OPERATIONS = {
    "freeze": (FreezeForm, "credit.freeze_creditaccount", _("Freeze credit accounts")),
    "unfreeze": (UnfreezeForm, "credit.freeze_creditaccount", _("Unfreeze credit accounts")),
    "set-limit": (SetLimitForm, "credit.set_limit_creditaccount", _("Set the base limit")),
    "grant": (GrantForm, "credit.grant_temporary_limit", _("Grant a temporary limit")),
}


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "status",
        "base_limit",
        "temporary_limit",
        "effective_limit_display",
        "outstanding_principal",
        "available_display",
        "credit_balance",
        "due_day",
        "opened_at",
    )
    list_filter = ("status", "due_day")
    search_fields = ("customer__phone", "customer__profile__real_name", "=id")
    list_select_related = ("customer",)
    date_hierarchy = "opened_at"
    change_form_template = "admin/credit/creditaccount/change_form.html"
    actions = ("freeze_selected", "unfreeze_selected", "set_limit_selected", "grant_selected")
    fieldsets = (
        (None, {"fields": ("customer", "status", "status_reasons", "status_changed_at")}),
        (
            _("Limits"),
            {
                "fields": (
                    "base_limit",
                    "temporary_limit",
                    "probation_limit_cap",
                    "effective_limit_display",
                    "outstanding_principal",
                    "available_display",
                    "credit_balance",
                    "due_day",
                )
            },
        ),
        (
            _("Probation and dates"),
            {
                "fields": (
                    "freeze_reasons",
                    "pre_incident_limit",
                    "restored_at",
                    "opened_at",
                    "closed_at",
                )
            },
        ),
        (_("Limit history"), {"fields": ("limit_history",)}),
        (_("Status log"), {"fields": ("status_log",)}),
        (_("Ledger balances"), {"fields": ("ledger_balances",)}),
    )
    readonly_fields = (
        "customer",
        "status",
        "status_reasons",
        "status_changed_at",
        "base_limit",
        "temporary_limit",
        "probation_limit_cap",
        "effective_limit_display",
        "outstanding_principal",
        "available_display",
        "credit_balance",
        "due_day",
        "freeze_reasons",
        "pre_incident_limit",
        "restored_at",
        "opened_at",
        "closed_at",
        "limit_history",
        "status_log",
        "ledger_balances",
    )

    @admin.display(description=_("effective limit"))
    def effective_limit_display(self, account):
        return account.effective_limit

    @admin.display(description=_("available"))
    def available_display(self, account):
        return account.available

    @admin.display(description=_("status reasons"))
    def status_reasons(self, account):
        return "; ".join(reason_texts(account.status_reason_codes)) or "—"

    @admin.display(description=_("limit changes, newest first"))
    def limit_history(self, account):
        changes = account.limit_changes.select_related("actor").order_by("-id")[:50]
        return _table(
            [_("when"), _("kind"), _("base"), _("effective"), _("reasons"), _("by"), _("note")],
            [
                (
                    timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
                    c.get_kind_display(),
                    f"{c.old_base_limit} → {c.new_base_limit}",
                    f"{c.old_effective_limit} → {c.new_effective_limit}",
                    "; ".join(c.reasons),
                    c.actor or (f"run {c.run_id}" if c.run_id else _("system")),
                    c.note,
                )
                for c in changes
            ],
        )

    @admin.display(description=_("status changes, newest first"))
    def status_log(self, account):
        logs = StateLog.objects.for_(account).select_related("by").order_by("-id")[:50]
        return _table(
            [_("logged at"), _("transition"), _("from"), _("to"), _("by"), _("why")],
            [
                (
                    timezone.localtime(log.timestamp).strftime("%Y-%m-%d %H:%M"),
                    log.transition,
                    log.source_state,
                    log.state,
                    log.by or _("system"),
                    log.description or "",
                )
                for log in logs
            ],
        )

    @admin.display(description=_("journal balances of this account (debit − credit)"))
    def ledger_balances(self, account):
        balances = dict(
            JournalLine.objects.filter(account=account)
            .values_list("ledger_account")
            .annotate(balance=Sum("debit") - Sum("credit"))
            .order_by()
        )
        return _table(
            [_("ledger account"), _("balance")],
            [
                (label, balances.get(value, Decimal("0.00")))
                for value, label in LedgerAccount.choices
            ],
        )

    # -- operations: changelist actions and buttons on the account page lead to one form --

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "operation/<str:operation>/",
                self.admin_site.admin_view(self.operation_view),
                name=f"{opts.app_label}_{opts.model_name}_operation",
            ),
            *super().get_urls(),
        ]

    def has_freeze_permission(self, request):
        return request.user.has_perm(FREEZE_ACCOUNT)

    def has_set_limit_permission(self, request):
        return request.user.has_perm(SET_LIMIT)

    def has_grant_permission(self, request):
        return request.user.has_perm(GRANT_TEMPORARY_LIMIT)

    def _to_operation(self, operation: str, queryset) -> HttpResponseRedirect:
        ids = "&".join(f"ids={pk}" for pk in queryset.values_list("pk", flat=True))
        url = reverse("admin:credit_creditaccount_operation", args=[operation])
        return HttpResponseRedirect(f"{url}?{ids}")

    @admin.action(description=_("Freeze the selected accounts…"), permissions=["freeze"])
    def freeze_selected(self, request, queryset):
        return self._to_operation("freeze", queryset)

    @admin.action(description=_("Unfreeze the selected accounts…"), permissions=["freeze"])
    def unfreeze_selected(self, request, queryset):
        return self._to_operation("unfreeze", queryset)

    @admin.action(
        description=_("Set the base limit of the selected accounts…"), permissions=["set_limit"]
    )
    def set_limit_selected(self, request, queryset):
        return self._to_operation("set-limit", queryset)

    @admin.action(
        description=_("Grant the selected accounts a temporary limit…"), permissions=["grant"]
    )
    def grant_selected(self, request, queryset):
        return self._to_operation("grant", queryset)

    def operation_view(self, request: HttpRequest, operation: str):
        if operation not in OPERATIONS:
            raise PermissionDenied
        form_class, permission, title = OPERATIONS[operation]
        if not request.user.has_perm(permission):
            raise PermissionDenied
        ids = [int(pk) for pk in request.GET.getlist("ids") if pk.isdigit()]
        accounts = list(
            CreditAccount.objects.filter(pk__in=ids).select_related("customer").order_by("pk")
        )
        changelist = reverse("admin:credit_creditaccount_changelist")
        if not accounts:
            self.message_user(request, _("Select at least one account."), messages.WARNING)
            return HttpResponseRedirect(changelist)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            now = timezone.now()
            for account in accounts:
                try:
                    done = form.apply(account=account, actor=request.user, now=now)
                except DomainError as refused:
                    self.message_user(
                        request,
                        _("%(account)s: refused — %(why)s")
                        % {"account": account, "why": refused.message},
                        messages.ERROR,
                    )
                else:
                    self.message_user(request, f"{account}: {done}", messages.SUCCESS)
            if len(accounts) == 1:
                return HttpResponseRedirect(
                    reverse("admin:credit_creditaccount_change", args=[accounts[0].pk])
                )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "media": self.media + form.media,
            "accounts": accounts,
        }
        return TemplateResponse(request, "admin/credit/operation_form.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["operations"] = [
            (f"{reverse('admin:credit_creditaccount_operation', args=[op])}?ids={obj.pk}", title)
            for op, (_form, permission, title) in OPERATIONS.items()
            if obj is not None and request.user.has_perm(permission)
        ]
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(TemporaryLimitGrant)
class TemporaryLimitGrantAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "account",
        "amount",
        "status",
        "starts_at",
        "ends_at",
        "campaign",
        "granted_by",
    )
    list_filter = ("status", "campaign")
    search_fields = ("account__customer__phone", "campaign", "reason")
    list_select_related = ("account__customer", "granted_by")
    date_hierarchy = "starts_at"


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "kind",
        "old_base_limit",
        "new_base_limit",
        "old_effective_limit",
        "new_effective_limit",
        "reason_codes",
        "actor",
        "run_id",
    )
    list_filter = ("kind",)
    search_fields = ("account__customer__phone", "=run_id", "note")
    list_select_related = ("account__customer", "actor")
    date_hierarchy = "created_at"


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
    readonly_fields = ("is_active", "created_at", "activated_at", "activated_by")
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
            self.message_user(request, _("%(schedule)s is now in force.") % {"schedule": schedule})


@admin.register(Merchant)
class MerchantAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "name",
        "api_key_prefix",
        "is_active",
        "single_purchase_max",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "api_key_prefix")
    exclude = ("api_key_hash",)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "merchant",
        "amount",
        "term_months",
        "status",
        "refunded_amount",
        "merchant_reference",
    )
    list_filter = ("status", "term_months")
    search_fields = ("account__customer__phone", "merchant__name", "merchant_reference", "=id")
    list_select_related = ("account__customer", "merchant")
    date_hierarchy = "created_at"


class InstallmentInline(ReadOnlyTabularInline):
    model = Installment
    fields = (
        "sequence",
        "due_date",
        "status",
        "principal",
        "fee",
        "penalty",
        "principal_paid",
        "fee_paid",
        "penalty_paid",
        "principal_refunded",
        "fee_waived",
        "penalty_waived",
        "days_past_due",
        "paid_at",
    )
    ordering = ("sequence",)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_installmentplan")


@admin.register(InstallmentPlan)
class InstallmentPlanAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "account",
        "principal",
        "term_months",
        "monthly_fee_rate",
        "total_fee",
        "annual_rate",
        "status",
    )
    list_filter = ("status", "term_months")
    search_fields = ("account__customer__phone", "=id", "=purchase__id")
    list_select_related = ("account__customer",)
    date_hierarchy = "created_at"
    inlines = (InstallmentInline,)


class RepaymentAllocationInline(ReadOnlyTabularInline):
    model = RepaymentAllocation
    fields = ("installment", "component", "amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("installment")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_repayment")


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "received_at",
        "account",
        "amount",
        "channel",
        "payoff_plan",
        "fees_waived",
        "recorded_by",
    )
    list_filter = ("channel",)
    search_fields = ("account__customer__phone", "=id", "idempotency_key")
    list_select_related = ("account__customer", "payoff_plan", "recorded_by")
    date_hierarchy = "received_at"
    inlines = (RepaymentAllocationInline,)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "purchase",
        "amount",
        "principal_reduced",
        "fees_waived",
        "fees_returned",
        "credit_balance_added",
        "merchant_reference",
    )
    search_fields = ("purchase__account__customer__phone", "merchant_reference", "=purchase__id")
    list_select_related = ("purchase",)
    date_hierarchy = "created_at"


class JournalLineInline(ReadOnlyTabularInline):
    model = JournalLine
    fields = ("ledger_account", "debit", "credit")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("credit.view_journalentry")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "reference", "account", "memo")
    list_filter = ("kind",)
    search_fields = ("reference", "account__customer__phone")
    list_select_related = ("account__customer",)
    date_hierarchy = "created_at"
    inlines = (JournalLineInline,)
