import functools

from notifications.models import Channel
from notifications.providers import provider_class
from notifications.selectors import unread_count


def unread_notifications(request):
    """`notifications_unread`: the signed-in user's unread in-app notices, counted on use;
    `sms_sandbox`: SMS go to the sandbox (demo), so pages may link to what it recorded."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A callable: the template calls it (one query) only where the header shows it.
    return {
        "notifications_unread": functools.partial(unread_count, user=user),
        "sms_sandbox": provider_class(Channel.SMS).sandbox,
    }
