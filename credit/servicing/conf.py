"""Servicing settings, each with a default; a Django setting of the same name wins, then the
environment variable of that name (so `make run` and deployments can set them without code).

    SERVICING_FREEZE_DAYS_PAST_DUE      7     freeze with reason OVERDUE at this many days past due
    SERVICING_PROBATION_CAP_RATIO       0.50  usable limit at restoration, × the pre-incident limit
    SERVICING_PROBATION_FULL_LIMIT_DAYS 30    clean days after which the whole limit comes back
    SERVICING_PROBATION_DAYS            90    clean days after which a RESTORED account is ACTIVE
    SERVICING_GRANT_ENDING_NOTICE_DAYS  3     notice this many days before a temporary limit ends
    SERVICING_ACCELERATION_DAYS         15    an acceleration makes everything due in this many days
    SERVICING_EXTENSION_MAX_DAYS        30    an extension moves a due date by at most this much
"""

import os
from decimal import Decimal

from django.conf import settings

DEFAULTS: dict[str, int | Decimal] = {
    "SERVICING_FREEZE_DAYS_PAST_DUE": 7,
    "SERVICING_PROBATION_CAP_RATIO": Decimal("0.50"),
    "SERVICING_PROBATION_FULL_LIMIT_DAYS": 30,
    "SERVICING_PROBATION_DAYS": 90,
    "SERVICING_GRANT_ENDING_NOTICE_DAYS": 3,
    "SERVICING_ACCELERATION_DAYS": 15,
    "SERVICING_EXTENSION_MAX_DAYS": 30,
}


def setting(name: str):
    """The value of a servicing setting, typed like its default (never a float)."""
    default = DEFAULTS[name]
    value = getattr(settings, name) if hasattr(settings, name) else os.environ.get(name, default)
    return Decimal(str(value)) if isinstance(default, Decimal) else int(value)
