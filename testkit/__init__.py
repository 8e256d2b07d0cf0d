"""Arrange helpers shared by every app's tests, built through the real services so the
ledger invariants hold on their rows (factory-boy is kept for leaf models only)."""
