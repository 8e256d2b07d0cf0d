"""Write use cases of appeals (keyword-only, injected clock, atomic)."""

from appeals.services.common import appeal_lock
from appeals.services.customer import appeal_answer, appeal_submit, appeal_withdraw
from appeals.services.review import (
    appeal_assign,
    appeal_confirm,
    appeal_confirmation_decline,
    appeal_decide,
    appeal_message_add,
    appeal_request_info,
)
from appeals.services.sla import appeals_flag_sla_breaches

__all__ = [
    "appeal_answer",
    "appeal_assign",
    "appeal_confirm",
    "appeal_confirmation_decline",
    "appeal_decide",
    "appeal_lock",
    "appeal_message_add",
    "appeal_request_info",
    "appeal_submit",
    "appeal_withdraw",
    "appeals_flag_sla_breaches",
]
