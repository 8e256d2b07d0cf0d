"""Fee schedules: the active one, and activation guarded by the legal cap on the annualised rate."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.permissions import permission_require
from credit.models import ApprovalKind, ApprovalRequest, FeeSchedule
from credit.pricing import build_quote, daily_rate_annualised
from credit.services.approvals import approval_gate, approval_kind_register, row_reference
from credit.services.errors import FeeScheduleRefused, NoActiveFeeSchedule
from credit.services.permissions import ACTIVATE_FEE_SCHEDULE

_REFERENCE_AMOUNT = Decimal("10000.00")
# Every purchase day of a quarter (February included) against an end-of-month due day
# covers the shortest and longest first periods a customer can get.
_REFERENCE_DATES = [date(2026, 1, 1) + timedelta(days=n) for n in range(90)]


def fee_schedule_active() -> FeeSchedule:
    schedule = FeeSchedule.objects.filter(is_active=True).prefetch_related("terms").first()
    if schedule is None:
        raise NoActiveFeeSchedule()
    return schedule


# The authorisation path prices with this process's copy of the active schedule and saves two
# queries per purchase. An activated schedule never changes (the admin refuses edits), so the
# copy is right exactly while it is still the active one; the purchase statement checks that,
# and when it is not, the caller drops the copy.
_active_copy: FeeSchedule | None = None


def fee_schedule_active_cached() -> FeeSchedule:
    global _active_copy
    if _active_copy is None:
        _active_copy = fee_schedule_active()
    return _active_copy


def fee_schedule_cache_clear() -> None:
    global _active_copy
    _active_copy = None


def fee_schedule_worst_rate(*, schedule: FeeSchedule, term: int) -> Decimal:
    """The highest annualised rate a customer can face for this term under this schedule.

    The rate depends on the first period's length (the purchase day against the due day);
    the shortest first period gives the highest rate.
    """
    rate = schedule.monthly_rate(term)
    if rate == 0:
        return Decimal(0)
    return max(
        build_quote(
            amount=_REFERENCE_AMOUNT,
            term=term,
            monthly_fee_rate=rate,
            purchase_date=purchase_date,
            due_day=31,
        ).annual_rate
        for purchase_date in _REFERENCE_DATES
    )


def annual_rate_cap() -> Decimal:
    """The legal cap on every charge, annualised: a deployment setting, not a schedule field,
    so whoever activates a schedule cannot raise it."""
    return Decimal(settings.CREDIT_ANNUAL_RATE_CAP)


def _percent(rate: Decimal) -> Decimal:
    return (rate * 100).quantize(Decimal("0.01"))


def fee_schedule_validate(*, schedule: FeeSchedule) -> Decimal:
    """Refuse a schedule any of whose charges, annualised, is above the legal cap; returns
    the cap it was checked against. Every charge a customer can be made to pay is here:
    each installment term (its worst IRR, all fees included) and the penalty (daily × 365);
    a revolving rate joins the penalty when statements bring one."""
    cap = annual_rate_cap()
    for term in schedule.offered_terms:
        worst = fee_schedule_worst_rate(schedule=schedule, term=term)
        if worst > cap:
            raise FeeScheduleRefused(
                _(
                    "The %(term)s-month term reaches an annualised rate of %(rate)s%%, above the "
                    "legal cap of %(cap)s%%. Lower its monthly fee rate."
                )
                % {"term": term, "rate": _percent(worst), "cap": _percent(cap)},
                term=term,
                annual_rate=str(worst),
            )
    penalty = daily_rate_annualised(schedule.penalty_daily_rate)
    if penalty > cap:
        raise FeeScheduleRefused(
            _(
                "The penalty of %(daily)s%% a day is %(rate)s%% a year, above the legal cap of "
                "%(cap)s%%. Lower the penalty rate."
            )
            % {
                "daily": (schedule.penalty_daily_rate * 100).quantize(Decimal("0.0001")),
                "rate": _percent(penalty),
                "cap": _percent(cap),
            },
            charge="penalty",
            annual_rate=str(penalty),
        )
    return cap


@transaction.atomic
def fee_schedule_activate(
    *,
    schedule: FeeSchedule,
    now: datetime,
    actor: User | None = None,
    approval: ApprovalRequest | None = None,
) -> FeeSchedule | ApprovalRequest:
    """Make this schedule the one in force; refused if any charge is above the legal cap.

    Asked by a person, it waits for a second one: the request is returned (four eyes). The
    schedule records the cap it was checked against (`annual_rate_cap`)."""
    if actor is not None:
        permission_require(actor, ACTIVATE_FEE_SCHEDULE)
    schedule = FeeSchedule.objects.select_for_update().prefetch_related("terms").get(pk=schedule.pk)
    cap = fee_schedule_validate(schedule=schedule)
    waiting = approval_gate(
        kind=ApprovalKind.FEE_SCHEDULE,
        target=schedule,
        actor=actor,
        approval=approval,
        now=now,
        summary=_("Activate fee schedule %(schedule)s") % {"schedule": schedule},
    )
    if waiting is not None:
        return waiting
    FeeSchedule.objects.filter(is_active=True).exclude(pk=schedule.pk).update(is_active=False)
    schedule.is_active = True
    schedule.activated_at = now
    schedule.activated_by = actor
    schedule.annual_rate_cap = cap
    schedule.save(update_fields=["is_active", "activated_at", "activated_by", "annual_rate_cap"])
    return schedule


def _activation_execute(*, request: ApprovalRequest, actor: User, now: datetime) -> str:
    schedule = fee_schedule_activate(
        schedule=FeeSchedule.objects.get(pk=request.target_object_id),
        actor=actor,
        now=now,
        approval=request,
    )
    return row_reference(schedule)


approval_kind_register(
    ApprovalKind.FEE_SCHEDULE,
    permission=ACTIVATE_FEE_SCHEDULE,
    execute=_activation_execute,
    waits_for=gettext_lazy("a second risk manager"),
)
