"""The status enums of credit accounts and installments.

They live apart from the models so that `credit.formulas`, which the models build on, can
name them without an import cycle; `credit.models` re-exports both.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("Active")
    FROZEN = "FROZEN", _("Frozen")
    NEGATIVE = "NEGATIVE", _("Over limit")
    RESTORED = "RESTORED", _("Restored (probation)")
    CLOSED = "CLOSED", _("Closed")


class InstallmentStatus(models.TextChoices):
    PENDING = "PENDING", _("Upcoming")
    OVERDUE = "OVERDUE", _("Overdue")
    PAID = "PAID", _("Paid")
    WAIVED = "WAIVED", _("Waived")
