"""Appeal settings, each with the default of issue 7. A Django setting of the same name wins,
then the environment variable of that name, so deployments set them without code. They are read
at call time (`override_settings` in tests and a changed environment both apply).

    APPEALS_SLA_HOURS                 48        hours from submission to the decision deadline
    APPEALS_MAX_NEW_PER_24H           3         new appeals a customer may submit in 24 hours
    APPEALS_RESTORATION_MIN_REASON    20        characters a RESTORATION reason needs at least
    APPEALS_MAX_ATTACHMENTS           5         files per appeal, over its whole life
    APPEALS_MAX_ATTACHMENT_BYTES      5242880   bytes per file (5 MB)
    APPEALS_SECOND_APPROVAL_ABOVE     20000.00  usable limit an approval may give back alone
    APPEALS_DEFAULT_EXTENSION_DAYS    30        days a REPAYMENT_EXTENSION moves a due date
"""

import os
from decimal import Decimal

from django.conf import settings

DEFAULTS: dict[str, int | Decimal] = {
    "APPEALS_SLA_HOURS": 48,
    "APPEALS_MAX_NEW_PER_24H": 3,
    "APPEALS_RESTORATION_MIN_REASON": 20,
    "APPEALS_MAX_ATTACHMENTS": 5,
    "APPEALS_MAX_ATTACHMENT_BYTES": 5 * 1024 * 1024,
    "APPEALS_SECOND_APPROVAL_ABOVE": Decimal("20000.00"),
    "APPEALS_DEFAULT_EXTENSION_DAYS": 30,
}


def setting(name: str):
    """The value typed like its default (money as Decimal, never a float)."""
    default = DEFAULTS[name]
    value = getattr(settings, name) if hasattr(settings, name) else os.environ.get(name, default)
    return Decimal(str(value)) if isinstance(default, Decimal) else int(value)


def sla_hours() -> int:
    return setting("APPEALS_SLA_HOURS")


def max_new_per_day() -> int:
    return setting("APPEALS_MAX_NEW_PER_24H")


def restoration_min_reason_length() -> int:
    return setting("APPEALS_RESTORATION_MIN_REASON")


def max_attachments() -> int:
    return setting("APPEALS_MAX_ATTACHMENTS")


def max_attachment_bytes() -> int:
    return setting("APPEALS_MAX_ATTACHMENT_BYTES")


def second_approval_threshold() -> Decimal:
    """An approval that gives back more usable limit than this needs a second risk manager."""
    return setting("APPEALS_SECOND_APPROVAL_ABOVE")


def default_extension_days() -> int:
    return setting("APPEALS_DEFAULT_EXTENSION_DAYS")
