"""Filters for notice texts: money, rates, days and reasons in the active language.

Built into the notice template engine (`notifications.rendering`), so templates need no
`{% load %}`; portal pages may `{% load notification_text %}` for the same wording.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, translation

from core.reasons import reason_texts
from notifications.timing import local_zone

register = template.Library()


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value) -> str:
    """ "1234.5" → "¥1,234.50"; a negative amount keeps its sign in front."""
    amount = _decimal(value)
    if amount is None:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def percent(value) -> str:
    """A rate as a fraction, "0.1421" → "14.21%"."""
    rate = _decimal(value)
    if rate is None:
        return str(value)
    return f"{rate * 100:.2f}%"


def _as_datetime_or_date(value):
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def _month_day(value: date) -> str:
    chinese = (translation.get_language() or "").startswith("zh")
    return formats.date_format(value, "n月j日" if chinese else "F j")


@register.filter
def day(value) -> str:
    """An ISO date (or date-time, taken in local time) as "3月13日" / "March 13"."""
    parsed = _as_datetime_or_date(value)
    if parsed is None:
        return str(value)
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(local_zone()).date() if parsed.tzinfo else parsed.date()
    return _month_day(parsed)


@register.filter
def moment(value) -> str:
    """An ISO date-time in local time, "3月10日 09:41" / "March 10 09:41"."""
    parsed = _as_datetime_or_date(value)
    if not isinstance(parsed, datetime):
        return day(value)
    if parsed.tzinfo:
        parsed = parsed.astimezone(local_zone())
    return f"{_month_day(parsed)} {parsed:%H:%M}"


@register.filter
def positive(value) -> bool:
    """True for an amount above zero ("0.00" and blanks are not)."""
    amount = _decimal(value)
    return amount is not None and amount > 0


@register.filter
def reasons(codes) -> str:
    """Reason codes in words, in the active language, joined as a sentence list."""
    if not codes:
        return ""
    separator = "；" if (translation.get_language() or "").startswith("zh") else "; "
    return separator.join(reason_texts(codes))
