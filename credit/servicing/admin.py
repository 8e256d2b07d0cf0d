"""The staff console for servicing: closed days, delinquency, early repayment demands (提前结清)
and extensions (延期). Every action calls a service with `actor=request.user`; the services
check the permissions again, so the admin is a door, not the lock."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from credit.servicing.forms import (
    AccelerationDemandForm,
    AccelerationWithdrawForm,
    InstallmentExtendForm,
)
from credit.servicing.models import (
    Acceleration,
    AccelerationStatus,
    AccountDelinquency,
    BusinessDay,
    DelinquencyChange,
    InstallmentExtension,
)
from credit.servicing.services import (
    acceleration_demand,
    acceleration_withdraw,
    installment_extend,
)
from credit.servicing.services.permissions import (
    DEMAND_ACCELERATION,
    EXTEND_INSTALLMENT,
    WITHDRAW_ACCELERATION,
)

FORM_TEMPLATE = "admin/servicing/action_form.html"


def _render_form(admin_obj, request, *, form, title, submit_label, **extra):
    context = {
        **admin_obj.admin_site.each_context(request),
        "opts": admin_obj.model._meta,
        "title": title,
        "form": form,
        "submit_label": submit_label,
        **extra,
    }
    return TemplateResponse(request, FORM_TEMPLATE, context)


@admin.register(BusinessDay)
class BusinessDayAdmin(ReadOnlyAdmin):
    list_display = ("business_date", "seconds", "catch_up", "started_at", "finished_at")
    list_filter = ("catch_up",)
    date_hierarchy = "business_date"
    ordering = ("-business_date",)


@admin.register(AccountDelinquency)
class AccountDelinquencyAdmin(ReadOnlyAdmin):
    list_display = ("account", "bucket", "days_past_due", "overdue_amount", "bucket_since")
    list_filter = ("bucket",)
    search_fields = ("account__customer__phone",)
    list_select_related = ("account__customer",)
    ordering = ("-days_past_due",)


@admin.register(DelinquencyChange)
class DelinquencyChangeAdmin(ReadOnlyAdmin):
    list_display = ("account", "business_date", "old_bucket", "new_bucket", "days_past_due")
    list_filter = ("new_bucket",)
    search_fields = ("account__customer__phone",)
    list_select_related = ("account__customer",)
    ordering = ("-business_date", "account")


@admin.register(Acceleration)
class AccelerationAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "status", "due_date", "amount", "demanded_by", "demanded_at")
    list_filter = ("status",)
    search_fields = ("account__customer__phone",)
    list_select_related = ("account__customer", "demanded_by")
    ordering = ("-demanded_at",)
    actions = ["withdraw"]

    def has_add_permission(self, request):
        return request.user.has_perm(DEMAND_ACCELERATION)

    def has_withdraw_permission(self, request):
        return request.user.has_perm(WITHDRAW_ACCELERATION)

    def add_view(self, request, form_url="", extra_context=None):
        """ "Add" is the demand: one service call, refusals shown on the form."""
        if not self.has_add_permission(request):
            self.message_user(request, _("Only a risk manager can demand early repayment."))
            return HttpResponseRedirect(reverse("admin:servicing_acceleration_changelist"))
        form = AccelerationDemandForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                acceleration = acceleration_demand(
                    account=form.cleaned_data["account"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                self.message_user(
                    request,
                    _("Early repayment demanded: due %(date)s, the customer was told why.")
                    % {"date": acceleration.due_date},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:servicing_acceleration_changelist"))
        return _render_form(
            self,
            request,
            form=form,
            title=_("Demand early repayment"),
            submit_label=_("Demand early repayment"),
            explanation=_(
                "Every open installment of the frozen account becomes due in the configured "
                "number of days. The customer receives your reason and how to appeal."
            ),
        )

    @admin.action(
        description=_("Withdraw the demand (restore the schedule)"), permissions=["withdraw"]
    )
    def withdraw(self, request, queryset):
        queryset = queryset.filter(status=AccelerationStatus.ACTIVE)
        form = AccelerationWithdrawForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for acceleration in queryset:
                try:
                    acceleration_withdraw(
                        acceleration=acceleration,
                        actor=request.user,
                        now=timezone.now(),
                        note=form.cleaned_data["note"],
                    )
                    done += 1
                except DomainError as exc:
                    self.message_user(request, f"#{acceleration.pk}: {exc.message}", messages.ERROR)
            self.message_user(
                request, _("%(n)s demand(s) withdrawn.") % {"n": done}, messages.SUCCESS
            )
            return None
        return _render_form(
            self,
            request,
            form=form,
            title=_("Withdraw early repayment demands"),
            submit_label=_("Withdraw"),
            objects=list(queryset),
            selected=[a.pk for a in queryset],
            action="withdraw",
        )


@admin.register(InstallmentExtension)
class InstallmentExtensionAdmin(ReadOnlyAdmin):
    list_display = ("installment", "account", "days", "old_due_date", "new_due_date", "actor")
    search_fields = ("account__customer__phone",)
    list_select_related = ("installment", "account__customer", "actor")
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return request.user.has_perm(EXTEND_INSTALLMENT)

    def add_view(self, request, form_url="", extra_context=None):
        """ "Add" is the extension: one service call, refusals shown on the form."""
        if not self.has_add_permission(request):
            self.message_user(request, _("You cannot extend installments."))
            return HttpResponseRedirect(reverse("admin:servicing_installmentextension_changelist"))
        form = InstallmentExtendForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                extension = installment_extend(
                    installment=form.cleaned_data["installment"],
                    days=form.cleaned_data["days"],
                    actor=request.user,
                    now=timezone.now(),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                self.message_user(
                    request,
                    _("Installment extended to %(date)s.") % {"date": extension.new_due_date},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:servicing_installmentextension_changelist")
                )
        return _render_form(
            self,
            request,
            form=form,
            title=_("Extend an installment"),
            submit_label=_("Extend"),
            explanation=_(
                "Moves one installment's due date later, once per purchase, without penalty "
                "for the extra days."
            ),
        )
