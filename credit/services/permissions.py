"""The permissions a person needs for the credit actions (checked with core.permissions).
The system acting (`actor=None`: the business day, a rescoring run) needs none."""

FREEZE_ACCOUNT = "credit.freeze_creditaccount"
SET_LIMIT = "credit.set_limit_creditaccount"
GRANT_TEMPORARY_LIMIT = "credit.grant_temporary_limit"
ACTIVATE_FEE_SCHEDULE = "credit.activate_feeschedule"
REVERSE_DECISION = "credit.reverse_decision"
