"""What the customer's notices about a limit or a status change say, built once.

The single-account services and the set-based paths (servicing close, risk runs) send the
same events with the same context and dedupe keys; they build them here.
"""

from decimal import Decimal

from django.conf import settings

from core.events import EventType
from core.reasons import reason_texts


def reason_words(reason_codes) -> list[str]:
    return [str(text) for text in reason_texts(reason_codes)]


def limit_notice(
    *,
    old_limit: Decimal,
    new_limit: Decimal,
    available: Decimal,
    reason_codes: list[str],
    limit_change_id: int,
    reasons: list[str] | None = None,
) -> tuple[str, dict, str] | None:
    """LIMIT_RAISED / LIMIT_CUT as (event, context, dedupe key); None when the usable limit
    did not move. A caller announcing many changes passes `reasons` it has already put in
    words for these codes."""
    if new_limit == old_limit:
        return None
    context = {
        "old_limit": str(old_limit),
        "new_limit": str(new_limit),
        "available": str(available),
        "reason_codes": list(reason_codes),
        "reasons": reasons if reasons is not None else reason_words(reason_codes),
        "limit_change_id": limit_change_id,
    }
    event = EventType.LIMIT_RAISED if new_limit > old_limit else EventType.LIMIT_CUT
    if event == EventType.LIMIT_CUT:  # every cut, even one that acts at once, can be appealed
        context["appeal_url"] = settings.CREDIT_LIMIT_CUT_APPEAL_PATH.format(
            limit_change_id=limit_change_id
        )
    return event, context, f"limit-change:{limit_change_id}"


def status_notice_context(
    *, status: str, reason_codes: list[str], available: Decimal, effective_limit: Decimal
) -> dict:
    """The context of ACCOUNT_FROZEN / UNFROZEN / NEGATIVE / RESTORED."""
    return {
        "status": status,
        "reason_codes": list(reason_codes),
        "reasons": reason_words(reason_codes),
        "available": str(available),
        "effective_limit": str(effective_limit),
    }
