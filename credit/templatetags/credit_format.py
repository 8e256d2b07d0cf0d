from decimal import Decimal

from django import template
from django.utils.translation import gettext

from credit import money

register = template.Library()


@register.filter
def percent(rate) -> str:
    """A rate as a fraction (0.176543) → "17.65%"."""
    if rate is None or rate == "":
        return ""
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


@register.filter
def yuan(amount) -> str:
    """¥1,234.50, and a negative amount as −¥12.00 (a real minus sign): `credit.money.yuan`."""
    return money.yuan(amount)


@register.filter
def reasons(labels) -> str:
    """Reason labels as one phrase, with the language's own separator ("；" in Chinese)."""
    return gettext("; ").join(str(label) for label in labels or ())
