import functools

from notifications.selectors import unread_count


def unread_notifications(request):
    """`notifications_unread`: the signed-in user's unread in-app notices, counted on use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # A callable: the template calls it (one query) only where the header shows it.
    return {"notifications_unread": functools.partial(unread_count, user=user)}
