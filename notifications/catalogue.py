"""Which channels each event goes to, which rules bend for it, and the variables it carries.

One table for every `EventType`. `sample` documents the template variables a publisher sends
(and the template tests render every template with it), so it is the contract between the
services that publish an event and the texts that describe it.

Rules the table encodes:
- every customer notice goes to every channel in `notifications.channels` (SMS, email when
  the customer has an address, the in-app inbox); the in-app copy is what remains when the
  daily SMS cap holds an SMS back;
- `marketing`: the only kind a customer may opt out of (legally required notices such as due
  reminders, limit changes and freezes cannot be switched off);
- `urgent`: sent at once, day or night, and never held back by the daily SMS cap (login
  and verification security codes: the customer is waiting for them). Every SECURITY notice
  is urgent;
- `priority`: the class that decides who gets the day's capped SMS when they run short
  (see `Priority`); every event names its class here, in this one table.
"""

from dataclasses import dataclass, field
from enum import IntEnum

from django.utils.translation import gettext_lazy as _

from core.events import EventType
from notifications.channels import CHANNELS
from notifications.models import Channel

# Every registered channel, in the registry's order.
ALL = tuple(CHANNELS)


class Priority(IntEnum):
    """How much a notice matters when a capped channel (SMS) runs short, most important first.

    The daily cap serves a customer's due rows in this order (then oldest first), and keeps
    room for the upper classes: a lower class may only use the cap minus the slots
    reserved for the classes above it (`NOTIFICATIONS_SMS_CAP_RESERVED_*`), so a confirmation
    at 09:00 cannot take the slot a freeze at 18:00 needs. SECURITY is neither held nor
    counted. CONFIRMATION notices older than `NOTIFICATIONS_CONFIRMATION_MAX_AGE_HOURS` go
    in-app only.
    """

    SECURITY = 0  # one-time codes: the customer is waiting for them
    ACCOUNT_STATE = 1  # freeze, cut, announced cut, acceleration, appeal decided, reversal …
    REMINDER = 2  # due and overdue reminders, a grant about to end
    CONFIRMATION = 3  # receipts and good news: purchase, repayment, refund, a raise …
    MARKETING = 4

    @property
    def label(self) -> str:
        return str(_PRIORITY_LABELS[self])


_PRIORITY_LABELS = {
    Priority.SECURITY: _("Security code"),
    Priority.ACCOUNT_STATE: _("Account state change"),
    Priority.REMINDER: _("Reminder"),
    Priority.CONFIRMATION: _("Confirmation"),
    Priority.MARKETING: _("Marketing"),
}

# An event added without a class is treated as an account-state change: sent before
# reminders and confirmations, never starved by them (and the catalogue test asks for a class).
DEFAULT_PRIORITY = Priority.ACCOUNT_STATE


@dataclass(frozen=True)
class EventPolicy:
    channels: tuple[str, ...] = ALL
    marketing: bool = False
    urgent: bool = False
    priority: Priority | None = None  # None: DEFAULT_PRIORITY (the catalogue test refuses it)
    sample: dict = field(default_factory=dict)

    @property
    def importance(self) -> Priority:
        return DEFAULT_PRIORITY if self.priority is None else self.priority

    @property
    def sent_at_once(self) -> bool:
        """Neither waits for the quiet hours nor counts toward a daily cap."""
        return self.urgent or self.importance == Priority.SECURITY


_STATUS = {
    "status": "FROZEN",
    "reason_codes": ["OVERDUE"],
    "available": "0.00",
    "effective_limit": "5000.00",
}
_REMINDER = {"amount": "1326.40", "due_date": "2026-03-13", "installments": 2, "account_id": 1}
_APPEAL = {"appeal_id": 42, "subject": "LIMIT_CUT", "respond_by": "2026-03-17"}

POLICIES: dict[str, EventPolicy] = {
    EventType.PURCHASE_CONFIRMED: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={
            "purchase_id": 7,
            "merchant": "京东商城",
            "amount": "1200.00",
            "term_months": 3,
            "monthly_fee_rate": "0.006000",
            "total_fee": "21.60",
            "total": "1221.60",
            "annual_rate": "0.142100",
            "periods": [
                {"sequence": 1, "due_date": "2026-04-10", "total": "407.20"},
                {"sequence": 2, "due_date": "2026-05-10", "total": "407.20"},
                {"sequence": 3, "due_date": "2026-06-10", "total": "407.20"},
            ],
        },
    ),
    EventType.REPAYMENT_RECEIVED: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={
            "repayment_id": 9,
            "amount": "407.20",
            "credit_balance_added": "0.00",
            "from_credit_balance": False,
            "outstanding_principal": "800.00",
            "available": "4200.00",
        },
    ),
    EventType.REFUND_RECEIVED: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={
            "purchase_id": 7,
            "merchant": "京东商城",
            "amount": "300.00",
            "principal_reduced": "300.00",
            "fees_waived": "5.40",
            "fees_returned": "0.00",
            "credit_balance_added": "0.00",
        },
    ),
    EventType.PLAN_PAID_OFF: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={"plan_id": 3, "amount": "814.40", "fees_waived": "7.20"},
    ),
    EventType.DUE_IN_3_DAYS: EventPolicy(priority=Priority.REMINDER, sample=_REMINDER),
    EventType.DUE_TODAY: EventPolicy(priority=Priority.REMINDER, sample=_REMINDER),
    EventType.OVERDUE_DAY_1: EventPolicy(priority=Priority.REMINDER, sample=_REMINDER),
    EventType.OVERDUE_DAY_3: EventPolicy(priority=Priority.REMINDER, sample=_REMINDER),
    EventType.OVERDUE_DAY_7: EventPolicy(priority=Priority.REMINDER, sample=_REMINDER),
    EventType.LIMIT_RAISED: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={
            "old_limit": "5000.00",
            "new_limit": "8000.00",
            "available": "6800.00",
            "reason_codes": ["GOOD_HISTORY"],
        },
    ),
    EventType.LIMIT_CUT: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            "old_limit": "8000.00",
            "new_limit": "5000.00",
            "available": "3800.00",
            "reason_codes": ["LATE_REPAYMENTS", "HIGH_UTILISATION"],
        },
    ),
    EventType.LIMIT_DECREASE_PENDING: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            "old_limit": "8000.00",
            "new_limit": "5000.00",
            "effective_date": "2026-03-24",
            "reason_codes": ["LATE_REPAYMENTS"],
            "appeal_url": "/appeals/new/?decision=12",
        },
    ),
    EventType.LIMIT_DECREASE_CANCELLED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            "old_limit": "8000.00",
            "new_limit": "5000.00",
            "effective_date": "2026-03-24",
            "pending_id": 12,
        },
    ),
    EventType.ACCOUNT_FROZEN: EventPolicy(priority=Priority.ACCOUNT_STATE, sample=_STATUS),
    EventType.ACCOUNT_UNFROZEN: EventPolicy(
        priority=Priority.ACCOUNT_STATE, sample={**_STATUS, "status": "RESTORED"}
    ),
    EventType.ACCOUNT_NEGATIVE: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={**_STATUS, "status": "NEGATIVE", "available": "-600.00"},
    ),
    EventType.ACCOUNT_RESTORED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={**_STATUS, "status": "RESTORED", "reason_codes": ["REPAID_ABOVE_ZERO"]},
    ),
    EventType.TEMPORARY_LIMIT_GRANTED: EventPolicy(
        priority=Priority.CONFIRMATION,
        sample={
            "amount": "2000.00",
            "ends_at": "2026-06-30T23:59:59+08:00",
            "campaign": "618",
            "effective_limit": "7000.00",
        },
    ),
    EventType.TEMPORARY_LIMIT_ENDING: EventPolicy(
        priority=Priority.REMINDER,
        sample={"amount": "2000.00", "ends_at": "2026-06-30T23:59:59+08:00"},
    ),
    EventType.TEMPORARY_LIMIT_ENDED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={"amount": "2000.00", "effective_limit": "5000.00", "available": "1200.00"},
    ),
    EventType.ACCELERATION: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            "amount": "3600.00",
            "due_date": "2026-03-20",
            "reason_codes": ["CURRENTLY_PAST_DUE"],
            "appeal_url": "/appeals/new/?acceleration=5",
        },
    ),
    EventType.ACCELERATION_WITHDRAWN: EventPolicy(
        priority=Priority.ACCOUNT_STATE, sample={"reason_codes": ["APPEAL_APPROVED"]}
    ),
    # An account-state notice: a wrong decision reversed (what went wrong, what was put right).
    EventType.DECISION_REVERSED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            "reversal_id": 3,
            "decision": "FREEZE",
            "source": "FLAG_CLEARED",
            "status": "ACTIVE",
            "still_frozen": False,
            "old_limit": "0.00",
            "effective_limit": "10000.00",
            "available": "8800.00",
            "penalty_waived": "12.50",
            "penalty_returned": "1.53",
            "reason_codes": ["OUR_ERROR"],
        },
    ),
    EventType.INSTALLMENT_EXTENDED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={"old_due_date": "2026-03-10", "new_due_date": "2026-04-10", "amount": "407.20"},
    ),
    EventType.APPEAL_RECEIVED: EventPolicy(priority=Priority.CONFIRMATION, sample=_APPEAL),
    EventType.APPEAL_NEEDS_INFO: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={**_APPEAL, "question": "请上传最近三个月的收入证明。"},
    ),
    # An approval also says what it did (`effect`: the kind's, with its own variables) and
    # the account's figures after it; `outcome` PARTIAL: less came back than was taken.
    EventType.APPEAL_DECIDED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={
            **_APPEAL,
            "outcome": "PARTIAL",
            "reason_codes": ["APPEAL_APPROVED"],
            "effect": "LIMIT_RESTORED",
            "restored_to": "8000.00",
            "limit_before_incident": "10000.00",
            "in_steps": False,
            "unfrozen": True,
            "restored_amount": "8000.00",
            "account_status": "RESTORED",
            "base_limit": "8000.00",
            "effective_limit": "8000.00",
            "extension_days": 30,
            "new_due_date": "2026-04-10",
        },
    ),
    # Staff notice: no SMS, the back office reads email and the inbox.
    EventType.APPEAL_SLA_BREACHED: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        channels=(Channel.EMAIL, Channel.IN_APP),
        sample={**_APPEAL, "deadline": "2026-03-17T18:00:00+08:00"},
    ),
    EventType.LOGIN_NEW_DEVICE: EventPolicy(
        priority=Priority.ACCOUNT_STATE,
        sample={"at": "2026-03-10T09:41:00+08:00", "ip_address": "203.0.113.7"},
    ),
    EventType.LOGIN_CODE: EventPolicy(
        priority=Priority.SECURITY,
        channels=(Channel.SMS,),
        urgent=True,
        sample={"code": "284913", "minutes": 5},
    ),
    # Asked by a risk rule instead of a freeze (credit.risk.verification): SMS only — a copy
    # in the inbox would show the code to whoever is signed in, the person to verify.
    EventType.VERIFICATION_CODE: EventPolicy(
        priority=Priority.SECURITY,
        channels=(Channel.SMS,),
        urgent=True,
        sample={"code": "503817", "hours": 24},
    ),
    EventType.MARKETING: EventPolicy(
        priority=Priority.MARKETING,
        marketing=True,
        sample={"headline": "618 临时额度", "body": "活动期间额度最高提升 2000 元。"},
    ),
}


DEFAULT_POLICY = EventPolicy()


def policy_for(event: str) -> EventPolicy:
    """The event's policy; an event added to the catalogue without one still goes out on
    every channel (its missing templates then show up as DEAD rows naming the file, and
    `test_every_event_type_has_a_policy_with_at_least_one_channel` fails) rather than
    failing the publisher's transaction."""
    return POLICIES.get(event, DEFAULT_POLICY)


def priority_for(event: str) -> Priority:
    """The event's class for the daily cap (DEFAULT_PRIORITY for an event without one)."""
    return policy_for(event).importance


URGENT_EVENTS = tuple(event for event, policy in POLICIES.items() if policy.sent_at_once)
