"""The permissions servicing's staff actions need (checked with core.permissions)."""

DEMAND_ACCELERATION = "servicing.demand_acceleration"
WITHDRAW_ACCELERATION = "servicing.withdraw_acceleration"
EXTEND_INSTALLMENT = "servicing.extend_installment"
