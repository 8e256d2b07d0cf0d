"""The one place money is quantised, parsed and split. CNY, 2 places, half-up, never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(value: Decimal | int | str) -> Decimal:
    """Round to cents, half-up (0.005 → 0.01)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(amount) -> str:
    """The one display format of an amount: ¥1,234.50, and a negative one as −¥12.00.

    Every page, admin message and cause text shows money through this (templates through the
    `yuan` filter); API JSON keeps plain strings.
    """
    if amount is None or amount == "":
        return ""
    try:
        value = quantize(Decimal(str(amount)))
    except InvalidOperation:
        return str(amount)
    sign = "−" if value < 0 else ""
    return f"{sign}¥{abs(value):,}"


def parse_amount(raw) -> Decimal:
    """Parse customer input into an exact amount; ValueError names what is wrong.

    Refuses floats, more than two decimals, non-numbers and non-finite values; the sign is
    checked by the caller, which knows whether zero is allowed.
    """
    if isinstance(raw, float):
        raise TypeError("money must not be a float")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError("not_a_number") from exc
    if not value.is_finite():
        raise ValueError("not_a_number")
    if value != value.quantize(CENT):
        raise ValueError("too_many_decimals")
    return value.quantize(CENT)


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Split into `parts` cent amounts summing exactly to `total`; the remainder goes last."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    total = quantize(total)
    each = (total / parts).quantize(CENT, rounding="ROUND_DOWN")
    return [each] * (parts - 1) + [total - each * (parts - 1)]
