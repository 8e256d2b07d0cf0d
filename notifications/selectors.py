"""Reads for the inbox pages and the header badge."""

from django.core.paginator import Page, Paginator

from notifications.models import Channel, Notification, NotificationPreference, SandboxSms

INBOX_PAGE_SIZE = 20


def inbox_notices(*, user):
    return Notification.objects.filter(user=user, channel=Channel.IN_APP)


def inbox_page(*, user, page_number) -> Page:
    notices = inbox_notices(user=user).order_by("-created_at", "-pk")
    return Paginator(notices, INBOX_PAGE_SIZE).get_page(page_number)


def sandbox_sms_for(*, user, limit: int = 10):
    """The latest SMS the sandbox provider "sent" to the user's number (demo only)."""
    return SandboxSms.objects.filter(phone=user.phone).order_by("-created_at", "-pk")[:limit]


def unread_count(*, user) -> int:
    return inbox_notices(user=user).filter(read_at__isnull=True).count()


def marketing_opted_out(*, user) -> bool:
    return marketing_opted_out_ids(user_ids={user.pk}) == {user.pk}


def marketing_opted_out_ids(*, user_ids: set[int]) -> set[int]:
    """Which of these customers switched marketing notices off."""
    if not user_ids:
        return set()
    found = NotificationPreference.objects.filter(user_id__in=user_ids, marketing_opt_out=True)
    return set(found.values_list("user_id", flat=True))
