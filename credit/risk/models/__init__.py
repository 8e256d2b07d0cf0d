"""Risk engine data: policy versions, rescoring runs and their decisions, pending decreases,
risk rules and flags, phone-number history. Numbers and states change only through services.

One module per section (policy, runs, cooling_off, events, verification); import the models from here.
"""

from credit.risk.models.cooling_off import (
    PendingLimitDecrease,
    PendingStatus,
)
from credit.risk.models.events import (
    FlagStatus,
    PhoneChange,
    RiskFlag,
    RiskRule,
    RuleAction,
    RuleCode,
)
from credit.risk.models.policy import (
    RegionalMultiplier,
    RiskPolicy,
    RiskPolicyActivation,
    SeasonalCampaign,
)
from credit.risk.models.rule_versions import RiskRuleVersion
from credit.risk.models.runs import (
    LIVE_RUN_STATUSES,
    DecisionAction,
    PendingAction,
    RescoringChunk,
    RescoringDecision,
    RescoringRun,
    RunGrant,
    RunStatus,
)
from credit.risk.models.verification import ChallengeStatus, VerificationChallenge

__all__ = [
    "LIVE_RUN_STATUSES",
    "ChallengeStatus",
    "DecisionAction",
    "FlagStatus",
    "PendingAction",
    "PendingLimitDecrease",
    "PendingStatus",
    "PhoneChange",
    "RegionalMultiplier",
    "RescoringChunk",
    "RescoringDecision",
    "RescoringRun",
    "RiskFlag",
    "RiskPolicy",
    "RiskPolicyActivation",
    "RiskRule",
    "RiskRuleVersion",
    "RuleAction",
    "RuleCode",
    "RunGrant",
    "RunStatus",
    "SeasonalCampaign",
    "VerificationChallenge",
]
