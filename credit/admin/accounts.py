"""The credit account page: limits, history, status log, ledger balances, and the operations."""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog

from accounts.pii import reveal_operations
from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.reasons import reason_texts
from credit.admin.operations import OPERATIONS
from credit.models import AccountStatus, CreditAccount, JournalLine, LedgerAccount
from credit.money import yuan
from credit.selectors import TRANSITION_LABELS
from credit.services.permissions import (
    FREEZE_ACCOUNT,
    GRANT_TEMPORARY_LIMIT,
    REVERSE_DECISION,
    SET_LIMIT,
)
from credit.transitions import audit_reason_codes


def _log_why(description: str | None) -> str:
    """A status log's reasons in words, then staff's note ("CODE,CODE | note")."""
    codes = audit_reason_codes(description)
    note = (description or "").split(" | ", 1)[1] if " | " in (description or "") else ""
    return " | ".join(part for part in (str(_("; ")).join(reason_texts(codes)), note) if part)


def _table(headers, rows) -> str:
    """A small read-only table for the change page (rows are escaped by format_html_join)."""
    if not rows:
        return format_html("<p>{}</p>", _("None yet."))
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in r)),) for r in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _money(field: str):
    """A money field of the account shown in the one money format (¥10,000.00), sortable."""

    @admin.display(description=CreditAccount._meta.get_field(field).verbose_name, ordering=field)
    def show(self, account):
        value = getattr(account, field)
        return "-" if value is None else yuan(value)

    return show


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "status",
        "base_limit_shown",
        "temporary_limit_shown",
        "effective_limit_display",
        "outstanding_principal_shown",
        "available_display",
        "credit_balance_shown",
        "due_day",
        "opened_at",
    )
    list_filter = ("status", "due_day")
    search_fields = ("customer__phone", "customer__profile__real_name", "=id")
    list_select_related = ("customer",)
    date_hierarchy = "opened_at"
    change_form_template = "admin/credit/creditaccount/change_form.html"
    actions = (
        "freeze_selected",
        "unfreeze_selected",
        "set_limit_selected",
        "grant_selected",
        "reverse_selected",
    )
    fieldsets = (
        (None, {"fields": ("customer", "status", "status_reasons", "status_changed_at")}),
        (
            _("Limits"),
            {
                "fields": (
                    "base_limit_shown",
                    "temporary_limit_shown",
                    "probation_limit_cap_shown",
                    "effective_limit_display",
                    "outstanding_principal_shown",
                    "available_display",
                    "credit_balance_shown",
                    "due_day",
                )
            },
        ),
        (
            _("Probation and dates"),
            {
                "fields": (
                    "freeze_reasons",
                    "pre_incident_limit_shown",
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
        "base_limit_shown",
        "temporary_limit_shown",
        "probation_limit_cap_shown",
        "effective_limit_display",
        "outstanding_principal_shown",
        "available_display",
        "credit_balance_shown",
        "due_day",
        "freeze_reasons",
        "pre_incident_limit_shown",
        "restored_at",
        "opened_at",
        "closed_at",
        "limit_history",
        "status_log",
        "ledger_balances",
    )

    base_limit_shown = _money("base_limit")
    temporary_limit_shown = _money("temporary_limit")
    probation_limit_cap_shown = _money("probation_limit_cap")
    outstanding_principal_shown = _money("outstanding_principal")
    credit_balance_shown = _money("credit_balance")
    pre_incident_limit_shown = _money("pre_incident_limit")

    @admin.display(description=_("effective limit"))
    def effective_limit_display(self, account):
        return yuan(account.effective_limit)

    @admin.display(description=_("available"))
    def available_display(self, account):
        return yuan(account.available)

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
                    f"{yuan(c.old_base_limit)} → {yuan(c.new_base_limit)}",
                    f"{yuan(c.old_effective_limit)} → {yuan(c.new_effective_limit)}",
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
        states = dict(AccountStatus.choices)
        return _table(
            [_("logged at"), _("transition"), _("from"), _("to"), _("by"), _("why")],
            [
                (
                    timezone.localtime(log.timestamp).strftime("%Y-%m-%d %H:%M"),
                    TRANSITION_LABELS.get(log.transition, log.transition),
                    states.get(log.source_state, log.source_state),
                    states.get(log.state, log.state),
                    log.by or _("system"),
                    _log_why(log.description),
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
                (label, yuan(balances.get(value, Decimal("0.00"))))
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

    def has_reverse_permission(self, request):
        return request.user.has_perm(REVERSE_DECISION)

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

    @admin.action(
        description=_("Reverse a decision on the selected accounts as our error…"),
        permissions=["reverse"],
    )
    def reverse_selected(self, request, queryset):
        return self._to_operation("reverse", queryset)

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
                    # The status in the message is the one after the operation.
                    account = CreditAccount.objects.select_related("customer").get(pk=account.pk)
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
        ] + reveal_operations(request, obj.customer if obj else None)
        return super().render_change_form(request, context, add, change, form_url, obj)
