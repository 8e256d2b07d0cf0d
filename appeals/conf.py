"""Appeal settings, each overridable in Django settings (names below), with the defaults of issue 7.

They are read at call time, so `override_settings` in tests and a changed environment both apply.
"""

from decimal import Decimal

from django.conf import settings


def sla_hours() -> int:
    """Hours from submission to the decision deadline (the clock pauses while NEEDS_INFO)."""
    return int(getattr(settings, "APPEALS_SLA_HOURS", 48))


def max_new_per_day() -> int:
    """New appeals a customer may submit in any 24 hours."""
    return int(getattr(settings, "APPEALS_MAX_NEW_PER_24H", 3))


def restoration_min_reason_length() -> int:
    return int(getattr(settings, "APPEALS_RESTORATION_MIN_REASON", 20))


def max_attachments() -> int:
    """Files per appeal, over its whole life."""
    return int(getattr(settings, "APPEALS_MAX_ATTACHMENTS", 5))


def max_attachment_bytes() -> int:
    return int(getattr(settings, "APPEALS_MAX_ATTACHMENT_BYTES", 5 * 1024 * 1024))


def second_approval_threshold() -> Decimal:
    """An approval that gives back more usable limit than this needs a second risk manager."""
    return Decimal(str(getattr(settings, "APPEALS_SECOND_APPROVAL_ABOVE", "20000.00")))


def default_extension_days() -> int:
    """Days an approved REPAYMENT_EXTENSION moves the installment when the reviewer sets none."""
    return int(getattr(settings, "APPEALS_DEFAULT_EXTENSION_DAYS", 30))
