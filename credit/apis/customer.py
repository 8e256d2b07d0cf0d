"""Customer API: my account, limit history, quotes, purchases, plans, installments, repayments.

Each view translates input, makes one service call (wrapped in the idempotency guard for
writes) and translates the output. Every lookup goes through the caller's own account.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.throttles import PaymentCodeThrottle, RepaymentThrottle
from credit.apis.base import CustomerAPIView, CustomerScoped
from credit.apis.idempotency import HEADER, idempotent
from credit.apis.serializers.inputs import PurchaseAuthorizeIn, QuoteQueryIn, RepaymentIn
from credit.apis.serializers.outputs import (
    AccountOut,
    HistoryEntryOut,
    InstallmentOut,
    LimitChangeOut,
    PaymentCodeOut,
    PayoffQuoteOut,
    PlanDetailOut,
    PlanOut,
    PurchaseDetailOut,
    PurchaseOut,
    QuoteOut,
    RepaymentDetailOut,
    RepaymentOut,
)
from credit.models import InstallmentStatus, RepaymentChannel
from credit.selectors import (
    account_history,
    installments_for_account,
    limit_changes_for_account,
    merchants_active,
    plan_for_account,
    plans_for_account,
    purchase_for_account,
    purchases_for_account,
    repayment_for_account,
    repayments_for_account,
    temporary_grants_current,
)
from credit.services import (
    plan_payoff,
    plan_payoff_quote,
    purchase_authorize,
    purchase_quote,
    purchase_quotes,
    repayment_apply,
)
from credit.services.idempotency import api_idempotency_key
from credit.services.merchants import payment_code_issue

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per intended effect (a UUID). A retry with the same key and body "
    "returns the first answer; with another body it is refused (422).",
)
THROTTLED = OpenApiResponse(
    description="`throttled`: over a rate limit (for merchants: too many wrong API keys from "
    "this address); see `Retry-After`."
)


def service_idempotency_key(key: str) -> str:
    """The client's key as the service stores it: in the `api:` namespace, which only this
    layer fills, so it can never equal a key the system makes (credit.services.idempotency)."""
    return api_idempotency_key(key)


def found(selector, **kwargs):
    """A selector's one row, or 404 (also for another customer's id: no existence leak)."""
    try:
        return selector(**kwargs)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class AccountView(CustomerAPIView):
    @extend_schema(responses=AccountOut, summary="My credit line")
    def get(self, request):
        account = self.get_account()
        grants = temporary_grants_current(account=account, now=timezone.now())
        return Response(AccountOut(account, context={"temporary_grants": grants}).data)


class LimitChangeListView(CustomerScoped, generics.ListAPIView):
    serializer_class = LimitChangeOut

    def get_queryset(self):
        return limit_changes_for_account(account=self.get_account())


class AccountHistoryView(CustomerScoped, generics.ListAPIView):
    """Limit changes and status events (freeze, unfreeze, below zero, close, …), newest first."""

    serializer_class = HistoryEntryOut

    def get_queryset(self):
        return account_history(account=self.get_account())


class PaymentCodeView(CustomerAPIView):
    throttle_classes = [PaymentCodeThrottle]

    @extend_schema(
        request=None, responses={201: PaymentCodeOut, 429: THROTTLED}, summary="Show a payment code"
    )
    def post(self, request):
        code = payment_code_issue(account=self.get_account(), now=timezone.now())
        return Response(PaymentCodeOut(code).data, status=status.HTTP_201_CREATED)


class QuoteView(CustomerAPIView):
    @extend_schema(
        parameters=[QuoteQueryIn],
        responses={200: QuoteOut(many=True)},
        summary="Installment quotes: schedule and annualised rate, before any commitment",
    )
    def get(self, request):
        query = validated(QuoteQueryIn, request.query_params)
        account = self.get_account()
        merchant = None
        if "merchant_id" in query:
            merchant = merchants_active().filter(pk=query["merchant_id"]).first()
            if merchant is None:
                raise NotFound()
        now = timezone.now()
        if "term" in query:
            quotes = [
                purchase_quote(
                    account=account,
                    amount=query["amount"],
                    term=query["term"],
                    now=now,
                    merchant=merchant,
                )
            ]
        else:
            quotes = purchase_quotes(
                account=account, amount=query["amount"], now=now, merchant=merchant
            )
        return Response(QuoteOut(quotes, many=True).data)


class PurchaseListCreateView(CustomerScoped, generics.ListAPIView):
    serializer_class = PurchaseOut

    def get_queryset(self):
        return purchases_for_account(account=self.get_account())

    @extend_schema(
        request=PurchaseAuthorizeIn,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: PurchaseDetailOut},
        summary="Authorise a purchase and split it into installments",
    )
    def post(self, request):
        data = validated(PurchaseAuthorizeIn, request.data)
        account = self.get_account()
        merchant = merchants_active().filter(pk=data["merchant_id"]).first()
        if merchant is None:
            raise NotFound()

        def authorize():
            purchase = purchase_authorize(
                account=account,
                merchant=merchant,
                amount=data["amount"],
                term=data["term"],
                idempotency_key=service_idempotency_key(request.headers[HEADER].strip()),
                now=timezone.now(),
                description=data["description"],
                merchant_reference=data["merchant_reference"],
            )
            purchase = purchase_for_account(account=account, purchase_id=purchase.pk)
            return Response(PurchaseDetailOut(purchase).data, status=status.HTTP_201_CREATED)

        return idempotent(
            request=request, scope=self.idempotency_scope, payload=data, action=authorize
        )


class PurchaseDetailView(CustomerScoped, generics.RetrieveAPIView):
    serializer_class = PurchaseDetailOut

    def get_object(self):
        return found(
            purchase_for_account, account=self.get_account(), purchase_id=self.kwargs["pk"]
        )


class PlanListView(CustomerScoped, generics.ListAPIView):
    serializer_class = PlanOut

    def get_queryset(self):
        return plans_for_account(account=self.get_account())


class PlanDetailView(CustomerScoped, generics.RetrieveAPIView):
    serializer_class = PlanDetailOut

    def get_object(self):
        return found(plan_for_account, account=self.get_account(), plan_id=self.kwargs["pk"])


class PlanPayoffView(CustomerAPIView):
    @extend_schema(responses={200: PayoffQuoteOut}, summary="What paying off costs now")
    def get(self, request, pk):
        plan = found(plan_for_account, account=self.get_account(), plan_id=pk)
        return Response(PayoffQuoteOut(plan_payoff_quote(plan=plan, now=timezone.now())).data)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: RepaymentDetailOut, 429: THROTTLED},
        summary="Pay off a plan early (future-period fees waived)",
    )
    def post(self, request, pk):
        account = self.get_account()
        plan = found(plan_for_account, account=account, plan_id=pk)

        def pay_off():
            repayment = plan_payoff(
                plan=plan,
                idempotency_key=service_idempotency_key(request.headers[HEADER].strip()),
                now=timezone.now(),
                channel=RepaymentChannel.APP,
                actor=request.user,
            )
            repayment = repayment_for_account(account=account, repayment_id=repayment.pk)
            return Response(RepaymentDetailOut(repayment).data, status=status.HTTP_201_CREATED)

        return idempotent(
            request=request,
            scope=self.idempotency_scope,
            payload={"plan_id": plan.pk},
            action=pay_off,
        )


class InstallmentListView(CustomerScoped, generics.ListAPIView):
    serializer_class = InstallmentOut

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=InstallmentStatus.values, required=False)]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status_filter = self.request.query_params.get("status") or None
        if status_filter is not None and status_filter not in InstallmentStatus.values:
            return installments_for_account(account=self.get_account()).none()
        return installments_for_account(account=self.get_account(), status=status_filter)


class RepaymentListCreateView(CustomerScoped, generics.ListAPIView):
    serializer_class = RepaymentOut
    throttle_classes = [RepaymentThrottle]  # counts the POSTs only

    def get_queryset(self):
        return repayments_for_account(account=self.get_account())

    @extend_schema(
        request=RepaymentIn,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: RepaymentDetailOut, 429: THROTTLED},
        summary="Repay: oldest due first, penalty → fee → principal; any excess is kept as "
        "credit balance",
    )
    def post(self, request):
        data = validated(RepaymentIn, request.data)
        account = self.get_account()

        def repay():
            repayment = repayment_apply(
                account=account,
                amount=data["amount"],
                idempotency_key=service_idempotency_key(request.headers[HEADER].strip()),
                now=timezone.now(),
                channel=RepaymentChannel.APP,
                actor=request.user,
            )
            repayment = repayment_for_account(account=account, repayment_id=repayment.pk)
            return Response(RepaymentDetailOut(repayment).data, status=status.HTTP_201_CREATED)

        return idempotent(request=request, scope=self.idempotency_scope, payload=data, action=repay)


class RepaymentDetailView(CustomerScoped, generics.RetrieveAPIView):
    serializer_class = RepaymentDetailOut

    def get_object(self):
        return found(
            repayment_for_account, account=self.get_account(), repayment_id=self.kwargs["pk"]
        )
