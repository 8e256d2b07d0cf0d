"""What a merchant is told when a request is refused: why, never the customer's numbers.

The customer's own API and portal explain a refusal with their figures (available credit,
the amount above which they must confirm it is them); a merchant only learns which rule
stood in the way. Every refusal a merchant view raises passes through `merchant_refusal`
(MerchantAPIView.handle_exception): the stable code and status stay; a refusal caused by the
customer's account (the codes below) gets the merchant's wording and loses its extra fields.
Other refusals concern the merchant's own request or purchase (an invalid amount, what is
left to refund) and pass unchanged.
"""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

MERCHANT_MESSAGES = {
    "insufficient_credit": _(
        "The customer's credit line does not cover this purchase; ask them to pay another way."
    ),
    "account_not_usable": _("The customer's credit line cannot be used for purchases right now."),
    "account_frozen": _("The customer's credit line is paused and cannot pay for purchases now."),
    "account_negative": _(
        "The customer's credit line cannot take new purchases until the customer repays."
    ),
    "account_closed": _("The customer's credit line is closed."),
    "verification_required": _(
        "The customer must first confirm it is them in their app for a purchase of this size."
    ),
}


class MerchantRefusal(DomainError):
    """A refusal as the merchant sees it; code and status are those of the original."""

    def __init__(self, original: DomainError):
        super().__init__(MERCHANT_MESSAGES[original.code])
        self.code = original.code
        self.http_status = original.http_status


def merchant_refusal(exc: Exception) -> Exception:
    if isinstance(exc, DomainError) and exc.code in MERCHANT_MESSAGES:
        return MerchantRefusal(exc)
    return exc
