"""Merchant API (API-key auth): authorise a purchase with the customer's payment code, read
it back, refund it. A merchant only ever sees its own purchases; anything else is 404."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from credit.apis.base import MerchantAPIView
from credit.apis.customer import (
    IDEMPOTENCY_PARAMETER,
    THROTTLED,
    found,
    service_idempotency_key,
    validated,
)
from credit.apis.idempotency import HEADER, idempotent
from credit.apis.serializers.inputs import MerchantPurchaseAuthorizeIn, RefundIn
from credit.apis.serializers.outputs import (
    MerchantPurchaseOut,
    RefundOut,
)
from credit.models import CreditAccount
from credit.selectors import purchase_for_merchant
from credit.services import purchase_authorize, purchase_refund
from credit.services.errors import IdempotencyKeyConflict
from credit.services.idempotency import PAYMENT_CODE_PREFIX
from credit.services.merchants import PaymentCodeInvalid, PaymentCodeUsed, payment_code_resolve


class MerchantPurchaseCreateView(MerchantAPIView):
    @extend_schema(
        request=MerchantPurchaseAuthorizeIn,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MerchantPurchaseOut, 429: THROTTLED},
        summary="Authorise a purchase on the customer's credit line",
        description="The customer shows a payment code in their app; one code pays for at "
        "most one purchase.",
    )
    def post(self, request):
        data = validated(MerchantPurchaseAuthorizeIn, request.data)
        merchant = self.merchant

        def authorize():
            # Resolved inside the idempotent action: a retry with the same key and body
            # gets the stored answer even once the code has expired or been used.
            account_id, nonce = payment_code_resolve(code=data["payment_code"])
            # The customer comes along: the purchase's notice goes to them.
            account = CreditAccount.objects.select_related("customer").filter(pk=account_id).first()
            if account is None:
                raise PaymentCodeInvalid()
            try:
                purchase = purchase_authorize(
                    account=account,
                    merchant=merchant,
                    amount=data["amount"],
                    term=data["term"],
                    # The code's nonce: a second purchase with the same code is impossible.
                    idempotency_key=f"{PAYMENT_CODE_PREFIX}{nonce}",
                    now=timezone.now(),
                    description=data["description"],
                    merchant_reference=data["merchant_reference"],
                )
            except IdempotencyKeyConflict as exc:
                raise PaymentCodeUsed() from exc
            return Response(MerchantPurchaseOut(purchase).data, status=status.HTTP_201_CREATED)

        return idempotent(
            request=request, scope=self.idempotency_scope, payload=data, action=authorize
        )


class MerchantPurchaseDetailView(MerchantAPIView):
    @extend_schema(responses={200: MerchantPurchaseOut, 429: THROTTLED})
    def get(self, request, pk):
        purchase = found(purchase_for_merchant, merchant=self.merchant, purchase_id=pk)
        return Response(MerchantPurchaseOut(purchase).data)


class MerchantRefundCreateView(MerchantAPIView):
    @extend_schema(
        request=RefundIn,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: RefundOut, 429: THROTTLED},
        summary="Refund all or part of a purchase",
        description="Reduces the remaining principal from the last installment backwards, "
        "waives the fees on it, and returns anything the customer already paid beyond what "
        "remains as credit balance.",
    )
    def post(self, request, pk):
        data = validated(RefundIn, request.data)
        purchase = found(purchase_for_merchant, merchant=self.merchant, purchase_id=pk)

        def refund():
            created = purchase_refund(
                purchase=purchase,
                amount=data["amount"],
                idempotency_key=service_idempotency_key(request.headers[HEADER].strip()),
                now=timezone.now(),
                merchant_reference=data["merchant_reference"],
            )
            return Response(RefundOut(created).data, status=status.HTTP_201_CREATED)

        return idempotent(
            request=request,
            scope=self.idempotency_scope,
            payload={**data, "purchase_id": purchase.pk},
            action=refund,
        )
