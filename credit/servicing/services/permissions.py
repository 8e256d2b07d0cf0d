"""Who may act: people must hold the permission; `actor=None` means the system acting on a
decision already taken by someone who held one (an approved appeal)."""

from credit.servicing.errors import NotPermitted

DEMAND_ACCELERATION = "servicing.demand_acceleration"
WITHDRAW_ACCELERATION = "servicing.withdraw_acceleration"
EXTEND_INSTALLMENT = "servicing.extend_installment"


def permission_require(actor, permission: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(permission):
        raise NotPermitted()
