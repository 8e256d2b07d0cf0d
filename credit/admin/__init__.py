"""The credit back office: every model read-only; changes only through forms that call services.

Staff act with `actor=request.user`, so each action leaves the same audit rows (LimitChange,
StateLog) and customer events as any other path. Permissions (accounts/roles.py):
freeze and unfreeze `credit.freeze_creditaccount`, set a limit
`credit.set_limit_creditaccount`, grant a temporary limit `credit.grant_temporary_limit`,
activate a fee schedule `credit.activate_feeschedule`. A refused action writes nothing and
says why; the FSM status field is never editable. Raises past the four-eyes thresholds, large
grants and activations become approval requests, decided in the queue (`approvals`).
"""

# Importing the modules registers their admins with the site.
from credit.admin import (  # noqa: F401
    accounts,
    approvals,
    fees,
    ledger,
    limits,
    purchases,
    repayments,
)
