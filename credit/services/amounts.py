"""Amounts of money a customer, merchant or staff member sends: the one check every entry
point shares (API serializers, portal forms, admin forms, appeal decisions)."""

from decimal import Decimal

from credit.money import parse_amount
from credit.services.errors import InvalidAmount

# The largest amount a MoneyField (14 digits, 2 places) holds.
MONEY_COLUMN_MAX = Decimal("999999999999.99")
# The largest amount anyone may enter (just under ¥1 billion): a thousand of them still fit a
# money column, so no sum the ledger keeps (a balance, a limit plus its grants, a day's
# totals) can overflow one and answer with a 500. Far above any real consumer amount.
MONEY_INPUT_MAX = Decimal("999999999.99")
# What every form field for money declares (admin and appeal DecimalFields).
MONEY_FIELD_BOUNDS = {"max_digits": 14, "decimal_places": 2, "max_value": MONEY_INPUT_MAX}


def amount_validate(raw) -> Decimal:
    """A positive amount with at most two decimals, at most MONEY_INPUT_MAX, or InvalidAmount."""
    try:
        amount = parse_amount(raw)
    except (ValueError, TypeError, ArithmeticError) as exc:
        # ArithmeticError: decimal.InvalidOperation when "1e3000" cannot be quantised.
        raise InvalidAmount() from exc
    if amount <= 0 or amount > MONEY_INPUT_MAX:
        raise InvalidAmount()
    return amount
