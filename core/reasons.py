"""Reason codes: why a limit or a status changed, shown to customers in their language.

One vocabulary for every capability (manual actions, servicing, the risk engine, appeals),
so a customer always reads the same words for the same cause.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReasonCode(models.TextChoices):
    # Staff and compliance
    STAFF_DECISION = "STAFF_DECISION", _("A risk officer reviewed your account")
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST", _("You asked for this change")
    FRAUD_CONFIRMED = "FRAUD_CONFIRMED", _("Fraud on this account was confirmed")
    LEGAL_ORDER = "LEGAL_ORDER", _("A court or authority ordered it")
    DECEASED = "DECEASED", _("We were notified that the account holder has died")
    COMPLIANCE = "COMPLIANCE", _("A legal or compliance requirement")
    IDENTITY_CHECK = "IDENTITY_CHECK", _("Your identity needs to be verified again")
    ACCOUNT_OPENED = "ACCOUNT_OPENED", _("Your credit line was opened")
    # Servicing
    OVERDUE = "OVERDUE", _("An installment is overdue")
    OVERDUE_CURED = "OVERDUE_CURED", _("Your overdue installments are repaid")
    TEMPORARY_GRANT = "TEMPORARY_GRANT", _("A temporary limit was added")
    TEMPORARY_EXPIRY = "TEMPORARY_EXPIRY", _("A temporary limit ended")
    PROBATION_STEP = (
        "PROBATION_STEP",
        _("Your limit is coming back step by step after a clean record"),
    )
    PROBATION_COMPLETE = "PROBATION_COMPLETE", _("You completed the probation period")
    PROBATION_CAP = "PROBATION_CAP", _("After an incident your limit comes back in steps")
    REPAID_ABOVE_ZERO = (
        "REPAID_ABOVE_ZERO",
        _("Your repayments brought your available credit back above zero"),
    )
    REFUNDED_ABOVE_ZERO = (
        "REFUNDED_ABOVE_ZERO",
        _("A refund brought your available credit back above zero"),
    )
    # Risk engine
    RESCORE = "RESCORE", _("Our regular review of your account")
    LATE_REPAYMENTS = "LATE_REPAYMENTS", _("Recent repayments were late")
    CURRENTLY_PAST_DUE = "CURRENTLY_PAST_DUE", _("You have an overdue amount now")
    PAST_DUE_HISTORY = "PAST_DUE_HISTORY", _("A repayment was long overdue in the past year")
    FEW_REPAYMENTS = "FEW_REPAYMENTS", _("Few repayments on record in the past year")
    HIGH_UTILISATION = "HIGH_UTILISATION", _("You are using most of your limit")
    SHORT_HISTORY = "SHORT_HISTORY", _("Your account is new, so we know little about it yet")
    FEW_PURCHASES = "FEW_PURCHASES", _("Few purchases so far")
    RISK_FLAG = "RISK_FLAG", _("A security rule flagged recent activity")
    SHARED_IP = "SHARED_IP", _("Many accounts logged in from the same network address")
    VERIFICATION_FAILED = (
        "VERIFICATION_FAILED",
        _("The security code was entered wrongly too many times"),
    )
    VERIFICATION_TIMEOUT = (
        "VERIFICATION_TIMEOUT",
        _("We asked you to confirm your identity and did not hear back in time"),
    )
    VERIFICATION_PASSED = "VERIFICATION_PASSED", _("You confirmed your identity")
    REGIONAL_POLICY = "REGIONAL_POLICY", _("A regional credit policy applies where you live")
    GOOD_HISTORY = "GOOD_HISTORY", _("A good repayment record")
    CAMPAIGN = "CAMPAIGN", _("A seasonal campaign")
    ROLLBACK = "ROLLBACK", _("A change made in error was reverted")
    OUR_ERROR = "OUR_ERROR", _("We made a mistake and put it right")
    # Appeals
    APPEAL_APPROVED = "APPEAL_APPROVED", _("Your appeal was approved")


# A large staff cut is announced in advance and waits (like an automated one) unless one of
# these reasons is among its codes: then it acts at once, still with its reasons and an appeal.
ACTS_AT_ONCE = (
    ReasonCode.FRAUD_CONFIRMED,
    ReasonCode.LEGAL_ORDER,
    ReasonCode.DECEASED,
    ReasonCode.CUSTOMER_REQUEST,
)


def reason_texts(codes) -> list[str]:
    """Human texts for codes, in the active language; unknown codes are shown as they are."""
    labels = dict(ReasonCode.choices)
    return [str(labels.get(code, code)) for code in codes]
