"""Arrange helpers shared by every app's tests, built through the real services so the
ledger invariants hold on their rows (factory-boy is kept for leaf models only)."""


def reload(obj):
    """The row as the database holds it now, as a new instance (FSM-protected fields refuse
    `refresh_from_db`)."""
    return type(obj).objects.get(pk=obj.pk)
