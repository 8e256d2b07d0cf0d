"""Staff users in the roles of accounts.roles (their groups hold the permissions)."""

from django.contrib.auth.models import Group

from accounts.roles import Role
from accounts.tests.factories import UserFactory


def staff(role: Role | str | None = None, **kwargs):
    """A staff user, in `role`'s group when given; re-read so no permission cache is stale."""
    user = UserFactory(is_staff=True, **kwargs)
    if role is not None:
        user.groups.add(Group.objects.get(name=Role(role).value))
    return type(user).objects.get(pk=user.pk)


def officer(**kwargs):
    return staff(Role.RISK_OFFICER, **kwargs)


def manager(**kwargs):
    return staff(Role.RISK_MANAGER, **kwargs)
