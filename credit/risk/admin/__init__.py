"""The risk staff console: policies, runs (summary, approval, rollback), decisions, pending
decreases, rules and flags. Every action calls a service with `actor=request.user`."""

# Importing the modules registers their admins with the site.
from credit.risk.admin import cooling_off, events, policy, runs  # noqa: F401
