"""Amounts of money a customer or merchant sends: the one check every entry point shares."""

from decimal import Decimal

from credit.money import parse_amount
from credit.services.errors import InvalidAmount

# The largest amount a MoneyField (14 digits, 2 places) holds; beyond it the database would
# refuse the row with a 500, so it is refused here as bad input.
MONEY_MAX = Decimal("999999999999.99")


def amount_validate(raw) -> Decimal:
    """A positive amount with at most two decimals that a money column can hold, or InvalidAmount."""
    try:
        amount = parse_amount(raw)
    except (ValueError, TypeError, ArithmeticError) as exc:
        # ArithmeticError: decimal.InvalidOperation when "1e3000" cannot be quantised.
        raise InvalidAmount() from exc
    if amount <= 0 or amount > MONEY_MAX:
        raise InvalidAmount()
    return amount
