"""Write use cases of the credit domain (keyword-only, injected clock, atomic)."""

from credit.services.errors import *  # noqa: F403
from credit.services.fees import fee_schedule_activate, fee_schedule_active
from credit.services.lifecycle import (
    account_close,
    account_freeze,
    account_lock,
    account_open,
    account_status_settle,
    account_unfreeze,
    status_log_stamp,
)
from credit.services.limits import limit_change_record, limit_set, temporary_limit_grant
from credit.services.purchases import purchase_authorize, purchase_quote, purchase_quotes
from credit.services.refunds import purchase_refund
from credit.services.repayments import plan_payoff, plan_payoff_quote, repayment_apply
from credit.services.reversals import (
    WrongDecision,
    decision_reverse,
    wrong_acceleration,
    wrong_cut,
    wrong_freeze,
    wrong_probation,
)

__all__ = [
    "WrongDecision",
    "account_close",
    "account_freeze",
    "account_lock",
    "account_open",
    "account_status_settle",
    "account_unfreeze",
    "decision_reverse",
    "fee_schedule_activate",
    "fee_schedule_active",
    "limit_change_record",
    "limit_set",
    "plan_payoff",
    "plan_payoff_quote",
    "purchase_authorize",
    "purchase_quote",
    "purchase_quotes",
    "purchase_refund",
    "repayment_apply",
    "status_log_stamp",
    "temporary_limit_grant",
    "wrong_acceleration",
    "wrong_cut",
    "wrong_freeze",
    "wrong_probation",
]
