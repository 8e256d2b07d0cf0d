"""When a notice may go out: quiet hours, retry backoff, the local day. Pure functions of `now`."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.NOTIFICATIONS_TIME_ZONE)


def _quiet_window() -> tuple[time, time]:
    start, end = settings.NOTIFICATIONS_QUIET_HOURS
    return time.fromisoformat(start), time.fromisoformat(end)


def sms_send_at(now: datetime) -> datetime:
    """`now`, or the end of the quiet hours if `now` falls inside them."""
    start, end = _quiet_window()
    if start == end:  # no quiet hours
        return now
    local = now.astimezone(local_zone())
    clock = local.time()
    if start > end:  # wraps midnight: 22:00–08:00
        if clock >= start:
            return datetime.combine(local.date() + timedelta(days=1), end, local.tzinfo)
        if clock < end:
            return datetime.combine(local.date(), end, local.tzinfo)
        return now
    if start <= clock < end:  # inside one day: e.g. 12:00–14:00
        return datetime.combine(local.date(), end, local.tzinfo)
    return now


def local_day_start(now: datetime) -> datetime:
    """Midnight of `now`'s local day: the daily SMS cap counts from here."""
    local = now.astimezone(local_zone())
    return datetime.combine(local.date(), time(0), local.tzinfo)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed attempt: 1, 2, 4, 8, 16 min … capped."""
    seconds = settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.NOTIFICATIONS_RETRY_MAX_SECONDS))
