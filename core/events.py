"""The catalogue of events customers and staff hear about, and how other apps publish them.

Apps never write notification rows themselves: they call `publish(...)` (one event) or
`publish_many(...)` (the notices of a set-based step) inside the transaction of the change;
the notifications app turns each notice into outbox rows (one per channel) in that same
transaction, so the notice exists exactly when the change does.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    PURCHASE_CONFIRMED = "PURCHASE_CONFIRMED", _("Purchase confirmed")
    REPAYMENT_RECEIVED = "REPAYMENT_RECEIVED", _("Repayment received")
    REFUND_RECEIVED = "REFUND_RECEIVED", _("Refund received")
    PLAN_PAID_OFF = "PLAN_PAID_OFF", _("Plan paid off early")
    DUE_IN_3_DAYS = "DUE_IN_3_DAYS", _("Due in 3 days")
    DUE_TODAY = "DUE_TODAY", _("Due today")
    OVERDUE_DAY_1 = "OVERDUE_DAY_1", _("Overdue for 1 day")
    OVERDUE_DAY_3 = "OVERDUE_DAY_3", _("Overdue for 3 days")
    OVERDUE_DAY_7 = "OVERDUE_DAY_7", _("Overdue for 7 days")
    LIMIT_RAISED = "LIMIT_RAISED", _("Limit raised")
    LIMIT_CUT = "LIMIT_CUT", _("Limit cut")
    LIMIT_DECREASE_PENDING = "LIMIT_DECREASE_PENDING", _("Limit decrease announced")
    LIMIT_DECREASE_CANCELLED = "LIMIT_DECREASE_CANCELLED", _("Announced limit decrease withdrawn")
    ACCOUNT_FROZEN = "ACCOUNT_FROZEN", _("Account frozen")
    ACCOUNT_UNFROZEN = "ACCOUNT_UNFROZEN", _("Account unfrozen")
    ACCOUNT_NEGATIVE = "ACCOUNT_NEGATIVE", _("Available credit below zero")
    ACCOUNT_RESTORED = "ACCOUNT_RESTORED", _("Account restored")
    TEMPORARY_LIMIT_GRANTED = "TEMPORARY_LIMIT_GRANTED", _("Temporary limit granted")
    TEMPORARY_LIMIT_ENDING = "TEMPORARY_LIMIT_ENDING", _("Temporary limit ending soon")
    TEMPORARY_LIMIT_ENDED = "TEMPORARY_LIMIT_ENDED", _("Temporary limit ended")
    ACCELERATION = "ACCELERATION", _("Early repayment demanded")
    ACCELERATION_WITHDRAWN = "ACCELERATION_WITHDRAWN", _("Early repayment demand withdrawn")
    INSTALLMENT_EXTENDED = "INSTALLMENT_EXTENDED", _("Installment due date extended")
    DECISION_REVERSED = "DECISION_REVERSED", _("A wrong decision reversed")
    APPEAL_RECEIVED = "APPEAL_RECEIVED", _("Appeal received")
    APPEAL_NEEDS_INFO = "APPEAL_NEEDS_INFO", _("Appeal needs information")
    APPEAL_DECIDED = "APPEAL_DECIDED", _("Appeal decided")
    APPEAL_SLA_BREACHED = "APPEAL_SLA_BREACHED", _("Appeal past its decision deadline (staff)")
    LOGIN_NEW_DEVICE = "LOGIN_NEW_DEVICE", _("Login from a new device")
    LOGIN_CODE = "LOGIN_CODE", _("Login security code")
    VERIFICATION_CODE = "VERIFICATION_CODE", _("Identity verification code")
    MARKETING = "MARKETING", _("Offers and campaigns")


@dataclass(frozen=True)
class Notice:
    """One event for one customer: `context` holds the template's variables (JSON-serialisable);
    `dedupe_key` is unique per notice, so publishing it again writes nothing new."""

    event: str
    user: Any  # accounts.User; Any keeps this module free of the accounts app
    context: dict
    dedupe_key: str


# Sent with: notices (a non-empty list of Notice) and now. One send per batch, so a step that
# changes 100,000 accounts writes their notices in a few statements, not 100,000.
events_published = Signal()


# Sent with: select (SQL whose rows are notices: user_id, event, context as jsonb, dedupe_key),
# params, events (every event the rows may carry) and now. Receivers return the rows written.
notices_selected = Signal()


# Sent with: notices (a list of PendingNotice, rows about to go out) and now. A receiver answers
# {id: reason} for the notices past their use: a due reminder of something paid, or whose
# moment has passed. Those expire instead of going out (the app that knows the rule answers;
# the notifications app asks, once per batch it claims).
notices_past_use = Signal()


@dataclass(frozen=True)
class PendingNotice:
    """An outbox row about to be sent, as `notices_past_use` receivers see it."""

    id: int
    event: str
    context: dict


def notices_expired(*, notices: Iterable[PendingNotice], now: datetime) -> dict[int, str]:
    """{id: reason} of the notices some app says are past their use (see `notices_past_use`)."""
    notices = list(notices)
    expired: dict[int, str] = {}
    if notices:
        for _receiver, answer in notices_past_use.send(sender=EventType, notices=notices, now=now):
            expired.update(answer or {})
    return expired


def publish(*, event: str, user, context: dict, dedupe_key: str, now: datetime) -> None:
    """Publish one customer-visible event inside the caller's transaction."""
    publish_many([Notice(event, user, context, dedupe_key)], now=now)


def publish_many(notices: Iterable[Notice], *, now: datetime) -> None:
    """Publish a batch of events inside the caller's transaction."""
    notices = list(notices)
    if notices:
        events_published.send(sender=EventType, notices=notices, now=now)


def publish_select(*, select: str, params: dict, events: Iterable[str], now: datetime) -> int:
    """Publish one notice per row of `select`, inside the caller's transaction, without the rows
    ever reaching Python: for steps that notify a million customers (the due reminders).

    Only for notices every customer must get (no opt-out). Returns the outbox rows written.
    """
    replies = notices_selected.send(
        sender=EventType, select=select, params=params, events=list(events), now=now
    )
    return sum(written for _receiver, written in replies)
