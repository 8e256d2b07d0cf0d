"""What every credit API view shares: exact JSON numbers, the caller's scope and language."""

import codecs
import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers, renderers
from rest_framework.exceptions import ParseError
from rest_framework.views import APIView

from core.api_language import ApiLanguage
from core.errors import DomainError
from credit.apis.auth import (
    IsCustomer,
    IsMerchant,
    MerchantApiKeyAuthentication,
)
from credit.apis.merchant_refusals import merchant_refusal
from credit.models import CreditAccount
from credit.selectors import account_for_customer


class DecimalJSONParser(parsers.JSONParser):
    """JSON whose numbers with a fraction become Decimal, never float (199.9 stays exact)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.load(
                codecs.getreader(encoding)(stream),
                parse_float=Decimal,
                parse_constant=_refuse_constant,
            )
        except ValueError as exc:
            # config/api_errors.py answers every ParseError with one translated message.
            raise ParseError() from exc


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number")


PARSERS = [DecimalJSONParser, parsers.FormParser, parsers.MultiPartParser]


class SortedJSONRenderer(renderers.JSONRenderer):
    """Keys in a fixed order, so a replayed answer (read back from a JSONB column, which
    does not keep key order) is byte-for-byte the body the first request received."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return json.dumps(
            data,
            cls=self.encoder_class,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
            sort_keys=True,
        ).encode()


RENDERERS = [SortedJSONRenderer, renderers.BrowsableAPIRenderer]


class NoCreditAccount(DomainError):
    code = "no_credit_account"
    http_status = 404
    default_message = _("You do not have a credit line yet.")


class CustomerScoped(ApiLanguage):
    """A customer acting on their own account only; other customers' rows are 404."""

    permission_classes = [IsCustomer]
    parser_classes = PARSERS
    renderer_classes = RENDERERS

    def get_account(self) -> CreditAccount:
        if not hasattr(self, "_account"):
            account = account_for_customer(user=self.request.user)
            if account is None:
                raise NoCreditAccount()
            self._account = account
        return self._account

    @property
    def idempotency_scope(self) -> str:
        return f"customer:{self.request.user.pk}"


class CustomerAPIView(CustomerScoped, APIView):
    pass


class MerchantAPIView(ApiLanguage, APIView):
    authentication_classes = [MerchantApiKeyAuthentication]
    permission_classes = [IsMerchant]
    parser_classes = PARSERS
    renderer_classes = RENDERERS

    @property
    def merchant(self):
        return self.request.auth

    def handle_exception(self, exc):
        # Refusals say why without the customer's figures (credit/apis/merchant_refusals.py).
        return super().handle_exception(merchant_refusal(exc))

    @property
    def idempotency_scope(self) -> str:
        return f"merchant:{self.merchant.pk}"
