"""Who may act. Services check permissions themselves (the admin only shows or hides buttons),
so every path to a write — admin, API, task, shell — is refused the same way."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class NotPermitted(DomainError):
    code = "permission_denied"
    http_status = 403
    default_message = _("You do not have permission to do this.")


def permission_require(actor, *permissions: str) -> None:
    """The actor must be an active user holding at least one of `permissions`."""
    if actor is None or not actor.is_active or not any(actor.has_perm(p) for p in permissions):
        raise NotPermitted()
