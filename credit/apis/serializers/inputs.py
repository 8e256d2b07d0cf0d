"""Input serializers: they only translate. Amounts go through the same `amount_validate` as
the services, so a bad amount answers with the domain's stable code (`invalid_amount`), never
a generic one, and nothing reaches a service that the service would refuse for its form.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credit.services.amounts import amount_validate
from credit.services.errors import UnknownTerm


@extend_schema_field(OpenApiTypes.STR)
class AmountField(serializers.Field):
    """CNY as a string ("199.90") or a JSON number; > 0, at most 2 decimals, never a float."""

    default_error_messages = {"required": _("This field is required.")}

    def to_internal_value(self, data) -> Decimal:
        return amount_validate(data)

    def to_representation(self, value):
        return str(value)


@extend_schema_field(OpenApiTypes.INT)
class TermField(serializers.Field):
    """The number of monthly installments; anything not offered is `unknown_term`."""

    def to_internal_value(self, data) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str | Decimal):
            raise UnknownTerm()
        try:
            term = int(str(data).strip())
        except ValueError as exc:
            raise UnknownTerm() from exc
        if str(term) != str(data).strip():
            raise UnknownTerm()
        return term

    def to_representation(self, value):
        return value


class PurchaseAuthorizeIn(serializers.Serializer):
    merchant_id = serializers.IntegerField(min_value=1)
    amount = AmountField()
    term = TermField(help_text=_("Number of monthly installments (1 = pay next month, free)."))
    description = serializers.CharField(max_length=200, required=False, default="")
    merchant_reference = serializers.CharField(max_length=64, required=False, default="")


class MerchantPurchaseAuthorizeIn(serializers.Serializer):
    payment_code = serializers.CharField(
        max_length=200, help_text=_("The code the customer's app shows (valid a few minutes).")
    )
    amount = AmountField()
    term = TermField()
    description = serializers.CharField(max_length=200, required=False, default="")
    merchant_reference = serializers.CharField(max_length=64, required=False, default="")


class QuoteQueryIn(serializers.Serializer):
    amount = AmountField()
    term = TermField(required=False)
    merchant_id = serializers.IntegerField(min_value=1, required=False)


class RepaymentIn(serializers.Serializer):
    amount = AmountField()


class RefundIn(serializers.Serializer):
    amount = AmountField()
    merchant_reference = serializers.CharField(max_length=64, required=False, default="")
