"""Refusals of servicing (acceleration, extensions, the close), each with a stable code."""

from django.utils.translation import gettext_lazy as _

from credit.services.errors import CreditError


class BusinessDateInFuture(CreditError):
    code = "business_date_in_future"
    default_message = _("A business day can be closed only once it has begun.")


class CloseOutOfOrder(CreditError):
    code = "close_out_of_order"
    http_status = 409
    default_message = _("Business days are closed in order; the day before is not closed yet.")


class AccelerationNeedsFrozenAccount(CreditError):
    code = "acceleration_needs_frozen_account"
    http_status = 409
    default_message = _("Early repayment can be demanded only on a frozen account.")


class AccelerationAlreadyActive(CreditError):
    code = "acceleration_already_active"
    http_status = 409
    default_message = _("An early repayment demand is already in force on this account.")


class NothingToAccelerate(CreditError):
    code = "nothing_to_accelerate"
    http_status = 409
    default_message = _("This account has no open installments.")


class AccelerationNotActive(CreditError):
    code = "acceleration_not_active"
    http_status = 409
    default_message = _("This early repayment demand was already withdrawn.")


class ExtensionDaysOutOfRange(CreditError):
    code = "extension_days_out_of_range"


class ExtensionAlreadyUsed(CreditError):
    code = "extension_already_used"
    http_status = 409
    default_message = _(
        "An installment of this purchase was already extended; each purchase allows one extension."
    )


class ExtensionTooShort(CreditError):
    code = "extension_too_short"


class InstallmentNotOpen(CreditError):
    code = "installment_not_open"
    http_status = 409
    default_message = _("This installment is already paid.")


class InstallmentUnderAcceleration(CreditError):
    code = "installment_under_acceleration"
    http_status = 409
    default_message = _(
        "An early repayment demand applies to this installment; withdraw it before extending."
    )


class ReminderDateInFuture(CreditError):
    code = "reminder_date_in_future"
    default_message = _(
        "Reminders are generated for a day that has begun, never ahead: they would go out early."
    )
