"""Credit models, one module per concern; import them from `credit.models`."""

from credit.choices import (
    FREEZE_REASONS_ENDED_BY_REPAYING,
    AccountStatus,
    InstallmentStatus,
    ReversalSource,
    ReversedDecision,
)
from credit.models.accounts import (
    CreditAccount,
    FreezeReason,
    GrantStatus,
    LimitChange,
    LimitChangeKind,
    TemporaryLimitGrant,
)
from credit.models.approvals import ApprovalKind, ApprovalRequest, ApprovalStatus
from credit.models.fees import FeeSchedule, FeeScheduleTerm
from credit.models.idempotency import IdempotencyRecord
from credit.models.ledger import JournalEntry, JournalEntryKind, JournalLine, LedgerAccount
from credit.models.purchases import (
    Installment,
    InstallmentPlan,
    Merchant,
    PlanStatus,
    Purchase,
    PurchaseStatus,
)
from credit.models.repayments import (
    AllocationComponent,
    Refund,
    Repayment,
    RepaymentAllocation,
    RepaymentChannel,
)
from credit.models.reversals import DecisionReversal

__all__ = [
    "FREEZE_REASONS_ENDED_BY_REPAYING",
    "AccountStatus",
    "AllocationComponent",
    "ApprovalKind",
    "ApprovalRequest",
    "ApprovalStatus",
    "CreditAccount",
    "DecisionReversal",
    "FeeSchedule",
    "FeeScheduleTerm",
    "FreezeReason",
    "GrantStatus",
    "IdempotencyRecord",
    "Installment",
    "InstallmentPlan",
    "InstallmentStatus",
    "JournalEntry",
    "JournalEntryKind",
    "JournalLine",
    "LedgerAccount",
    "LimitChange",
    "LimitChangeKind",
    "Merchant",
    "PlanStatus",
    "Purchase",
    "PurchaseStatus",
    "Refund",
    "Repayment",
    "RepaymentAllocation",
    "RepaymentChannel",
    "ReversalSource",
    "ReversedDecision",
    "TemporaryLimitGrant",
]
