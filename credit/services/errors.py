"""Refusals of the credit domain, each with a stable code and a message a customer understands."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.permissions import NotPermitted
from credit.money import yuan


class CreditError(DomainError):
    code = "credit_error"


class InvalidAmount(CreditError):
    code = "invalid_amount"
    default_message = _("Enter an amount greater than zero, with at most two decimal places.")


class AmountTooLarge(CreditError):
    code = "amount_above_single_purchase_maximum"
    default_message = _("This amount is above the maximum for a single purchase.")


class AmountTooSmallForTerm(CreditError):
    code = "amount_too_small_for_term"
    default_message = _(
        "This amount is too small to split into that many installments; choose fewer."
    )


class UnknownTerm(CreditError):
    code = "unknown_term"
    default_message = _("This number of installments is not offered.")


class AccountNotUsable(CreditError):
    code = "account_not_usable"
    http_status = 409
    default_message = _("Your credit line cannot be used for purchases right now.")


class AccountFrozen(AccountNotUsable):
    code = "account_frozen"
    default_message = _("Your credit line is frozen, so purchases are paused. You can still repay.")


class AccountNegative(AccountNotUsable):
    code = "account_negative"
    default_message = _(
        "You owe more than your current limit, so purchases are paused until repayments bring "
        "your available credit back above zero."
    )


class AccountClosed(AccountNotUsable):
    code = "account_closed"
    default_message = _("This credit line is closed.")


class VerificationRequired(CreditError):
    code = "verification_required"
    http_status = 403
    default_message = _(
        "Please confirm it is you before purchases above %(amount)s: enter the security code "
        "we sent by SMS on the page “Confirm it is you” (linked from your account overview). "
        "Smaller purchases still go through."
    )

    def __init__(self, message=None, *, purchase_max, **extra):
        if message is None:
            message = self.default_message % {"amount": yuan(purchase_max)}
        super().__init__(message, purchase_max=str(purchase_max), **extra)


class InsufficientCredit(CreditError):
    code = "insufficient_credit"
    http_status = 409
    default_message = _("This purchase is more than your available credit.")


class RefundTooLarge(CreditError):
    code = "refund_above_purchase"
    default_message = _("A refund cannot exceed what is left of the purchase.")


class NothingToRepay(CreditError):
    code = "nothing_to_repay"
    http_status = 409
    default_message = _("There is nothing to repay on this plan.")


class TransitionRefused(CreditError):
    code = "transition_refused"
    http_status = 409
    default_message = _("The account is not in a state that allows this action.")


class CutNeedsNotice(CreditError):
    code = "cut_needs_notice"
    http_status = 409
    default_message = _(
        "A cut this large must be announced to the customer first and wait for the "
        "cooling-off period (announce it), unless a reason that acts at once applies: "
        "confirmed fraud, a legal order, the holder's death or the customer's own request."
    )


class ReasonRequired(CreditError):
    code = "reason_required"
    default_message = _("Give a reason for this action.")


class FeeScheduleRefused(CreditError):
    code = "fee_schedule_above_cap"


class IdempotencyKeyConflict(CreditError):
    code = "idempotency_key_reused"
    http_status = 422
    default_message = _("This idempotency key was already used with a different request.")


class InternalIdempotencyKey(CreditError):
    code = "idempotency_key_reserved"
    default_message = _("This idempotency key is reserved; send another one.")


class RepaymentExceedsOwed(CreditError):
    code = "repayment_exceeds_owed"
    default_message = _(
        "This is more than you can pay now: at most %(maximum)s (what you owe, plus a small "
        "prepayment allowance)."
    )

    def __init__(self, message=None, *, maximum, **extra):
        if message is None:
            message = self.default_message % {"maximum": yuan(maximum)}
        super().__init__(message, maximum=str(maximum), **extra)


class NoActiveFeeSchedule(CreditError):
    code = "no_active_fee_schedule"
    http_status = 503
    default_message = _("Installment pricing is not configured; please try again later.")


class AccountHasBalance(TransitionRefused):
    code = "account_has_balance"
    default_message = _(
        "This credit line can be closed only when nothing is owed and no credit balance is left."
    )


class NothingToReverse(CreditError):
    code = "nothing_to_reverse"
    http_status = 409
    default_message = _("This decision is no longer in force on the account: nothing to reverse.")


# --- four eyes (credit/services/approvals.py) ----------------------------------------------
class ApprovalError(CreditError):
    code = "approval_error"
    http_status = 409


class ApprovalAlreadyPending(ApprovalError):
    code = "approval_already_pending"
    default_message = _(
        "A request for this is already waiting for a second approval; decide or cancel it first."
    )


class ApprovalNotPending(ApprovalError):
    code = "approval_not_pending"
    default_message = _("This request was already decided, cancelled or has expired.")


class ApprovalExpired(ApprovalError):
    code = "approval_expired"
    default_message = _("This request has expired; ask again if it is still needed.")


class ApprovalStale(ApprovalError):
    code = "approval_stale"
    default_message = _(
        "What this request would change has changed since it was made; reject it and ask again."
    )


class ApprovalMismatch(ApprovalError):
    code = "approval_mismatch"
    default_message = _("This approval does not cover this action.")


class ApprovalNoteRequired(ApprovalError):
    code = "approval_note_required"
    http_status = 400
    default_message = _("Say why you reject the request.")


class SecondApproverRequired(NotPermitted):
    code = "second_approver_must_differ"
    default_message = _(
        "A second, different person must approve this request; you cannot approve your own."
    )


class OnlyMakerMayCancel(NotPermitted):
    code = "approval_cancel_not_maker"
    default_message = _("Only the person who made the request may cancel it.")


class LimitAbovePolicyMaximum(CreditError):
    code = "limit_above_policy_maximum"
    default_message = _(
        "This limit is above the active risk policy's maximum. Only a risk manager may ask "
        "for it, and a second risk manager must approve it."
    )
