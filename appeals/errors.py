"""Refusals of the appeals domain: a stable `code` and a message the customer or reviewer reads."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.permissions import NotPermitted


class AppealError(DomainError):
    code = "appeal_error"


class AppealNotFound(AppealError):
    """Unknown, foreign, or the wrong kind of object: all look the same from outside (404)."""

    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class AppealTargetNotEligible(AppealError):
    code = "appeal_target_not_eligible"
    http_status = 409
    default_message = _("This decision cannot be appealed.")


class AppealAlreadyOpen(AppealError):
    code = "appeal_already_open"
    http_status = 409
    default_message = _(
        "You already have an open appeal about this decision. Follow it in “My appeals”."
    )


class TooManyAppeals(AppealError):
    code = "appeal_rate_limited"
    http_status = 429
    default_message = _(
        "You have submitted the maximum number of appeals for 24 hours. Please try again later."
    )


class ReasonTooShort(AppealError):
    code = "appeal_reason_too_short"
    default_message = _("Please explain your appeal in a few words.")


class AttachmentRefused(AppealError):
    code = "attachment_refused"


class TooManyAttachments(AttachmentRefused):
    code = "attachment_too_many"


class AttachmentTooLarge(AttachmentRefused):
    code = "attachment_too_large"


class AttachmentTypeRefused(AttachmentRefused):
    code = "attachment_type_refused"


class AppealTransitionRefused(AppealError):
    code = "appeal_transition_refused"
    http_status = 409
    default_message = _("This appeal is not in a state that allows this action.")


class AppealAlreadyDecided(AppealTransitionRefused):
    code = "appeal_already_decided"
    default_message = _("This appeal has already been decided.")


class NoteRequired(AppealError):
    code = "note_required"
    default_message = _("Write a note for this step.")


class RejectionReasonRequired(AppealError):
    code = "rejection_reason_required"
    default_message = _("Write the reason the customer will read.")


class SameApproverRefused(NotPermitted):
    code = "second_approver_must_differ"
    default_message = _(
        "A second, different risk manager must confirm this approval; you approved it yourself."
    )


class DecisionNotApplicable(AppealError):
    """The decision can no longer take effect (for example the account is no longer frozen)."""

    code = "appeal_decision_not_applicable"
    http_status = 409


class RestoreAmountOutOfBounds(AppealError):
    code = "restore_amount_out_of_bounds"
