"""Output serializers: what the API answers, from models, quotes and selectors' results."""

from decimal import Decimal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.reasons import reason_texts
from credit.models import (
    CreditAccount,
    Installment,
    InstallmentPlan,
    LimitChange,
    Purchase,
    PurchaseStatus,
    Refund,
    Repayment,
    RepaymentAllocation,
    TemporaryLimitGrant,
)
from credit.selectors import account_status_explanation, available_in_words


class Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, **kwargs)


class Rate(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=9, decimal_places=6, **kwargs)


class CauseOut(serializers.Serializer):
    key = serializers.CharField(help_text=_('"freeze:<reason>", "negative", "probation", "closed"'))
    reason_codes = serializers.ListField(child=serializers.CharField())
    reasons = serializers.ListField(child=serializers.CharField())
    remedy = serializers.CharField(help_text=_("What ends this cause."))
    appeal_url = serializers.SerializerMethodField()
    since = serializers.DateTimeField(allow_null=True)

    def get_appeal_url(self, cause) -> str | None:
        if not cause.appeal_kind:
            return None
        target = getattr(cause.appeal_target, "pk", cause.appeal_target)
        query = {"kind": cause.appeal_kind, "target": target}
        if cause.appeal_freeze_reason:
            query["freeze_reason"] = cause.appeal_freeze_reason
        query = urlencode(query)
        return f"{reverse('appeals:new')}?{query}"


class StatusOut(serializers.Serializer):
    code = serializers.CharField(source="status")
    label = serializers.CharField()
    tone = serializers.ChoiceField(choices=["ok", "info", "warn", "bad"])
    headline = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    actions = serializers.ListField(child=serializers.CharField())
    can_purchase = serializers.BooleanField()
    can_repay = serializers.BooleanField()
    causes = CauseOut(many=True, help_text=_("Every active cause of the status, each on its own."))


class TemporaryGrantOut(serializers.ModelSerializer):
    class Meta:
        model = TemporaryLimitGrant
        fields = ["id", "amount", "starts_at", "ends_at", "status", "campaign"]


class AccountOut(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    status_reason_codes = serializers.ListField(child=serializers.CharField())
    effective_limit = Money()
    available = Money(help_text=_("May be negative after a limit cut; see available_explained."))
    available_explained = serializers.SerializerMethodField()
    temporary_grants = serializers.SerializerMethodField()
    verification_purchase_max = Money(
        allow_null=True,
        help_text=_(
            "Set while a risk rule asks the customer to confirm it is them (an SMS code "
            "entered in the portal): purchases above it are refused with "
            "verification_required. Null otherwise."
        ),
    )

    class Meta:
        model = CreditAccount
        fields = [
            "id",
            "status",
            "status_reason_codes",
            "base_limit",
            "temporary_limit",
            "probation_limit_cap",
            "effective_limit",
            "available",
            "available_explained",
            "outstanding_principal",
            "credit_balance",
            "due_day",
            "opened_at",
            "temporary_grants",
            "verification_purchase_max",
        ]

    @extend_schema_field(StatusOut)
    def get_status(self, account):
        return StatusOut(account_status_explanation(account)).data

    def get_available_explained(self, account) -> str:
        return available_in_words(account)

    @extend_schema_field(TemporaryGrantOut(many=True))
    def get_temporary_grants(self, account):
        grants = self.context.get("temporary_grants", [])
        return TemporaryGrantOut(grants, many=True).data


class LimitChangeOut(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    reasons = serializers.SerializerMethodField()
    is_decrease = serializers.BooleanField()

    class Meta:
        model = LimitChange
        fields = [
            "id",
            "kind",
            "kind_label",
            "old_base_limit",
            "new_base_limit",
            "old_effective_limit",
            "new_effective_limit",
            "is_decrease",
            "reason_codes",
            "reasons",
            "created_at",
        ]

    def get_reasons(self, change) -> list[str]:
        return reason_texts(change.reason_codes)


class HistoryEntryOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=["limit", "status"])
    label = serializers.CharField()
    reason_codes = serializers.ListField(child=serializers.CharField())
    reasons = serializers.ListField(child=serializers.CharField())
    old_effective_limit = Money(source="change.old_effective_limit", allow_null=True, default=None)
    new_effective_limit = Money(source="change.new_effective_limit", allow_null=True, default=None)
    old_status = serializers.CharField()
    new_status = serializers.CharField()


class InstallmentOut(serializers.ModelSerializer):
    principal_due = Money()
    fee_due = Money()
    penalty_due = Money()
    amount_due = Money()

    class Meta:
        model = Installment
        fields = [
            "id",
            "plan_id",
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
            "principal_due",
            "fee_due",
            "penalty_due",
            "amount_due",
            "days_past_due",
            "paid_at",
        ]


class PlanOut(serializers.ModelSerializer):
    purchase_id = serializers.IntegerField()
    merchant = serializers.CharField(source="purchase.merchant.name")
    annual_rate_percent = serializers.SerializerMethodField()

    class Meta:
        model = InstallmentPlan
        fields = [
            "id",
            "purchase_id",
            "merchant",
            "principal",
            "term_months",
            "monthly_fee_rate",
            "total_fee",
            "annual_rate",
            "annual_rate_percent",
            "status",
            "created_at",
            "closed_at",
        ]

    def get_annual_rate_percent(self, plan) -> str:
        return str((plan.annual_rate * 100).quantize(Decimal("0.01")))


class PlanDetailOut(PlanOut):
    installments = InstallmentOut(many=True)

    class Meta(PlanOut.Meta):
        fields = [*PlanOut.Meta.fields, "installments"]


class MerchantOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PurchaseOut(serializers.ModelSerializer):
    merchant = MerchantOut()
    plan_id = serializers.IntegerField(source="plan.pk")

    class Meta:
        model = Purchase
        fields = [
            "id",
            "merchant",
            "amount",
            "term_months",
            "description",
            "merchant_reference",
            "status",
            "refunded_amount",
            "created_at",
            "plan_id",
        ]


class PurchaseDetailOut(PurchaseOut):
    plan = PlanDetailOut()

    class Meta(PurchaseOut.Meta):
        fields = [*PurchaseOut.Meta.fields, "plan"]


# Fields declared one by one (not a ModelSerializer): it answers every authorisation, and a
# ModelSerializer builds its fields from the model on every use (a millisecond each).
class MerchantPurchaseOut(serializers.Serializer):
    """What a merchant sees of a purchase: no limits, no other purchases of the customer."""

    id = serializers.IntegerField()
    amount = Money()
    term_months = serializers.IntegerField()
    annual_rate = Rate(source="plan.annual_rate")
    total_fee = Money(source="plan.total_fee")
    description = serializers.CharField()
    merchant_reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PurchaseStatus.choices)
    refunded_amount = Money()
    created_at = serializers.DateTimeField()


class RefundOut(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = [
            "id",
            "purchase_id",
            "amount",
            "principal_reduced",
            "fees_waived",
            "fees_returned",
            "credit_balance_added",
            "merchant_reference",
            "created_at",
        ]


class AllocationOut(serializers.ModelSerializer):
    plan_id = serializers.IntegerField(source="installment.plan_id", allow_null=True)
    installment_sequence = serializers.IntegerField(source="installment.sequence", allow_null=True)

    class Meta:
        model = RepaymentAllocation
        fields = ["installment_id", "plan_id", "installment_sequence", "component", "amount"]


class RepaymentOut(serializers.ModelSerializer):
    class Meta:
        model = Repayment
        fields = [
            "id",
            "amount",
            "channel",
            "payoff_plan_id",
            "fees_waived",
            "received_at",
        ]


class RepaymentDetailOut(RepaymentOut):
    allocations = AllocationOut(many=True)
    credit_balance_added = serializers.SerializerMethodField()

    class Meta(RepaymentOut.Meta):
        fields = [*RepaymentOut.Meta.fields, "credit_balance_added", "allocations"]

    def get_credit_balance_added(self, repayment) -> str:
        return str(
            sum(
                (a.amount for a in repayment.allocations.all() if a.component == "CREDIT_BALANCE"),
                Decimal("0.00"),
            )
        )


class QuotePeriodOut(serializers.Serializer):
    sequence = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = Money()
    fee = Money()
    total = Money()


class QuoteOut(serializers.Serializer):
    amount = Money()
    term_months = serializers.IntegerField()
    monthly_fee_rate = Rate()
    total_fee = Money()
    total = Money()
    annual_rate = Rate(help_text=_("IRR of the actual cash flows, all fees included."))
    annual_rate_percent = serializers.SerializerMethodField()
    periods = QuotePeriodOut(many=True)

    def get_annual_rate_percent(self, quote) -> str:
        return str((quote.annual_rate * 100).quantize(Decimal("0.01")))


class PayoffQuoteOut(serializers.Serializer):
    plan_id = serializers.IntegerField()
    amount = Money(help_text=_("What paying the plan off now costs."))
    fees_waived = Money(help_text=_("Future-period fees you save by paying off now."))


class PaymentCodeOut(serializers.Serializer):
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()
