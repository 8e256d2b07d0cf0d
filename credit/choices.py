"""The account and installment enums the models, the formulas, the transition specs and the
raw SQL share.

They live apart from the models so that `credit.formulas` and `credit.transitions` can build
on them while the models build on those; `credit.models` re-exports every one.
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


class FreezeReason(models.TextChoices):
    OVERDUE = "OVERDUE", _("Overdue installments")
    RISK_RULE = "RISK_RULE", _("A risk rule")
    SHARED_IP = "SHARED_IP", _("Shared network address")
    STAFF = "STAFF", _("Staff decision")
    COMPLIANCE = "COMPLIANCE", _("Compliance")
    VERIFY_FAILED = "VERIFY_FAILED", _("Verification failed")
    VERIFY_TIMEOUT = "VERIFY_TIMEOUT", _("Verification not completed in time")


# Freeze reasons the customer ends by repaying, not by a freeze appeal: a repayment that
# leaves nothing overdue lifts OVERDUE at once; to contest it they ask for more time to repay
# (the installment appeal). Every other reason has its own freeze appeal.
FREEZE_REASONS_ENDED_BY_REPAYING = frozenset({FreezeReason.OVERDUE})


class LimitChangeKind(models.TextChoices):
    ACCOUNT_OPEN = "ACCOUNT_OPEN", _("Account opened")
    RESCORE = "RESCORE", _("Regular review")
    MANUAL_OVERRIDE = "MANUAL_OVERRIDE", _("Set by staff")
    ANNOUNCED_CUT = "ANNOUNCED_CUT", _("Staff cut after notice")
    APPEAL = "APPEAL", _("Appeal decision")
    REGIONAL_POLICY = "REGIONAL_POLICY", _("Regional policy")
    TEMPORARY_GRANT = "TEMPORARY_GRANT", _("Temporary limit added")
    TEMPORARY_EXPIRY = "TEMPORARY_EXPIRY", _("Temporary limit ended")
    PROBATION_STEP = "PROBATION_STEP", _("Probation step")
    ROLLBACK = "ROLLBACK", _("Reverted")
    REVERSAL = "REVERSAL", _("Wrong decision reversed")


class ReversalSource(models.TextChoices):
    """How a decision was found wrong."""

    FLAG_CLEARED = "FLAG_CLEARED", _("Risk flag cleared as a false alarm")
    APPEAL = "APPEAL", _("Appeal approved")
    RUN_ROLLBACK = "RUN_ROLLBACK", _("Rescoring run rolled back")
    STAFF_ERROR = "STAFF_ERROR", _("Reversed by staff as our error")


class ReversedDecision(models.TextChoices):
    """What kind of decision was reversed."""

    FREEZE = "FREEZE", _("Freeze")
    LIMIT_CUT = "LIMIT_CUT", _("Limit cut")
    ACCELERATION = "ACCELERATION", _("Early repayment demand")
    PROBATION = "PROBATION", _("Probation")
