"""Refusals of the risk engine, each with a stable code and a message staff understand."""

from django.utils.translation import gettext_lazy as _

from credit.services.errors import CreditError


class RiskError(CreditError):
    code = "risk_error"


class NoActivePolicy(RiskError):
    code = "no_active_risk_policy"
    http_status = 409
    default_message = _("No risk policy is active; a risk manager must activate one first.")


class PolicyInvalid(RiskError):
    code = "risk_policy_invalid"


class PolicyAlreadyActivated(RiskError):
    code = "risk_policy_already_activated"
    http_status = 409
    default_message = _(
        "This policy version was activated before; activated versions never change. "
        "Duplicate it into a new draft instead."
    )


class RunNotInState(RiskError):
    code = "rescoring_run_wrong_state"
    http_status = 409
    default_message = _("The rescoring run is not in a state that allows this action.")


class RunAlreadyExists(RiskError):
    code = "rescoring_run_exists"
    http_status = 409
    default_message = _("A rescoring run for this date is already in progress or applied.")


class RunBusy(RiskError):
    code = "rescoring_run_busy"
    http_status = 409
    default_message = _("Another process is executing this rescoring run right now.")


class PendingNotPending(RiskError):
    code = "pending_decrease_not_pending"
    http_status = 409
    default_message = _("This limit decrease is no longer pending.")


class CoolingOffNotOver(RiskError):
    code = "pending_decrease_cooling_off"
    http_status = 409
    default_message = _(
        "The customer was promised this decrease would not apply before its effective time."
    )


class PendingDecreaseUnderAppeal(RiskError):
    code = "pending_decrease_under_appeal"
    http_status = 409
    default_message = _(
        "The customer has an open appeal against this decrease, and was promised the change "
        "waits while it is considered: decide the appeal first."
    )


class PendingDecreaseStale(RiskError):
    code = "pending_decrease_stale"
    http_status = 409
    default_message = _(
        "The account's limit changed after this decrease was announced; cancel it instead."
    )


class FlagNotOpen(RiskError):
    code = "risk_flag_not_open"
    http_status = 409
    default_message = _("This risk flag was already reviewed.")


class NoteRequired(RiskError):
    code = "note_required"
    default_message = _("Write a note saying why.")


class PhoneInvalid(RiskError):
    code = "phone_invalid"


class PhoneUnchanged(RiskError):
    code = "phone_unchanged"
    default_message = _("This is already the reserved mobile number.")


class PhoneTaken(RiskError):
    code = "phone_taken"
    http_status = 409
    default_message = _("This mobile number belongs to another user.")


class VerificationNotOpen(RiskError):
    code = "verification_not_open"
    http_status = 409
    default_message = _("There is nothing to confirm: no security code is waiting for you.")


class VerificationCodeInvalid(RiskError):
    code = "verification_code_invalid"
    default_message = _("Enter the 6-digit code from the SMS.")


class VerificationResendsExhausted(RiskError):
    code = "verification_resends_exhausted"
    http_status = 429
    default_message = _(
        "We have already sent you several codes. Use the latest one, or call customer "
        "service 400-000-0000."
    )


class NotACut(RiskError):
    code = "not_a_cut"
    default_message = _("Only a lower base limit can be announced as a cut.")


class PendingDecreaseExists(RiskError):
    code = "pending_decrease_exists"
    http_status = 409
    default_message = _(
        "A limit decrease is already announced on this account; confirm or cancel it first."
    )


class RuleChangeInvalid(RiskError):
    code = "risk_rule_change_invalid"


class RuleUnchanged(RiskError):
    code = "risk_rule_unchanged"
    default_message = _("Nothing to change: these are the rule's current settings.")
