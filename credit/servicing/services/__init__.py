"""Servicing use cases: the daily close, due reminders, acceleration (提前结清),
extensions (延期)."""

from credit.servicing.services.acceleration import acceleration_demand, acceleration_withdraw
from credit.servicing.services.close import (
    business_day_close,
    business_day_close_one,
    business_day_last_closed,
)
from credit.servicing.services.extensions import installment_extend
from credit.servicing.services.reminders import REMINDER_RULES, reminders_generate

__all__ = [
    "REMINDER_RULES",
    "acceleration_demand",
    "acceleration_withdraw",
    "business_day_close",
    "business_day_close_one",
    "business_day_last_closed",
    "installment_extend",
    "reminders_generate",
]
