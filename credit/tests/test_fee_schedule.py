"""fee_schedule_activate: one active schedule; above the legal cap it is refused, naming term and rate."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from conftest import shanghai
from core.permissions import NotPermitted
from credit.models import FeeSchedule, FeeScheduleTerm
from credit.pricing import build_quote
from credit.services import (
    FeeScheduleRefused,
    NoActiveFeeSchedule,
    fee_schedule_activate,
    fee_schedule_active,
)
from credit.services.fees import annual_rate_cap, fee_schedule_worst_rate
from testkit import people
from testkit.approvals import approve_as_second
from testkit.credit import LAUNCH_RATES, buy, launch_fee_schedule, open_account

D = Decimal
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)


def schedule(version: int, rates: dict[int, str], **fields) -> FeeSchedule:
    made = FeeSchedule.objects.create(version=version, name=f"v{version}", created_at=NOW, **fields)
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=made, term_months=term, monthly_fee_rate=D(rate))
        for term, rate in rates.items()
    )
    return made


def test_the_launch_schedule_is_active_and_within_the_cap():
    launch_fee_schedule()
    active = fee_schedule_active()
    assert active.offered_terms == [1, 3, 6, 9, 12, 24]
    for term in active.offered_terms:
        assert fee_schedule_worst_rate(schedule=active, term=term) <= annual_rate_cap()


def test_activating_a_schedule_retires_the_previous_one_and_prices_new_purchases():
    manager = people.manager()
    old = launch_fee_schedule()
    # A purchase first, so this process holds its copy of the old schedule (the cache).
    assert buy(open_account(), "1000.00", term=3, now=NOW).plan.fee_schedule == old
    new = schedule(2, {**LAUNCH_RATES, 3: "0.006000"})
    approve_as_second(
        fee_schedule_activate(schedule=new, actor=people.manager(), now=NOW),
        now=NOW,
        checker=manager,
    )

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_active, new.is_active) == (False, True)
    assert (new.activated_at, new.activated_by) == (NOW, manager)
    purchase = buy(open_account(), "1000.00", term=3, now=NOW)
    assert (purchase.plan.fee_schedule, purchase.plan.monthly_fee_rate) == (new, D("0.006000"))
    # Plans already sold keep the price they were sold at.
    assert FeeSchedule.objects.filter(is_active=True).count() == 1


def test_a_schedule_above_the_legal_cap_is_refused_naming_the_term_and_its_rate():
    old = launch_fee_schedule()
    greedy = schedule(2, {**LAUNCH_RATES, 12: "0.015000"})
    with translation.override("en"), pytest.raises(FeeScheduleRefused) as refused:
        fee_schedule_activate(schedule=greedy, now=NOW)

    message = str(refused.value.message)
    worst = fee_schedule_worst_rate(schedule=greedy, term=12)
    assert "12-month" in message
    assert f"{(worst * 100).quantize(D('0.01'))}%" in message
    assert "24.00%" in message
    assert refused.value.code == "fee_schedule_above_cap"
    assert refused.value.extra == {"term": 12, "annual_rate": str(worst)}
    greedy.refresh_from_db()
    old.refresh_from_db()
    assert (greedy.is_active, greedy.activated_at, old.is_active) == (False, None, True)


def test_the_cap_is_checked_on_the_worst_first_period_not_a_typical_one():
    # 1.05 % a month over 3 months: about 20 % with a month-long first period, but about
    # 29 % when the first period is only 15 days (a purchase 15 days before the due day).
    edge = schedule(2, {1: "0", 3: "0.010500"})
    typical = build_quote(
        amount=D("1000.00"),
        term=3,
        monthly_fee_rate=D("0.010500"),
        purchase_date=date(2026, 3, 10),
        due_day=10,
    )
    assert typical.annual_rate < D("0.24")
    assert fee_schedule_worst_rate(schedule=edge, term=3) > D("0.24")
    with pytest.raises(FeeScheduleRefused):
        fee_schedule_activate(schedule=edge, now=NOW)


def test_a_lower_legal_cap_refuses_what_the_default_cap_allows(settings):
    settings.CREDIT_ANNUAL_RATE_CAP = D("0.18")
    strict = schedule(2, dict(LAUNCH_RATES))
    with pytest.raises(FeeScheduleRefused) as refused:
        fee_schedule_activate(schedule=strict, now=NOW)
    assert refused.value.extra["term"] == 3  # the first term above 18 %


def test_without_an_active_schedule_quotes_say_pricing_is_not_configured():
    FeeSchedule.objects.update(is_active=False)
    with pytest.raises(NoActiveFeeSchedule) as refused:
        fee_schedule_active()
    assert refused.value.http_status == 503


def test_a_term_only_the_newly_activated_schedule_offers_can_be_bought_at_once():
    launch_fee_schedule()
    without_24 = schedule(2, {t: r for t, r in LAUNCH_RATES.items() if t != 24})
    fee_schedule_activate(schedule=without_24, now=NOW)
    account = open_account()
    buy(account, "100.00", term=3, now=NOW)  # this process's copy: no 24-month term
    with_24 = schedule(3, LAUNCH_RATES)
    fee_schedule_activate(schedule=with_24, now=NOW)

    purchase = buy(account, "2400.00", term=24, now=NOW)

    assert (purchase.plan.fee_schedule, purchase.term_months) == (with_24, 24)


def test_purchases_stop_when_no_schedule_is_active_even_with_a_copy_in_memory():
    launch_fee_schedule()
    account = open_account()
    buy(account, "100.00", term=3, now=NOW)
    FeeSchedule.objects.update(is_active=False)

    with pytest.raises(NoActiveFeeSchedule):
        buy(account, "100.00", term=3, now=NOW)


def test_only_staff_allowed_to_activate_a_schedule_may_do_so():
    launch_fee_schedule()
    new = schedule(2, LAUNCH_RATES)
    with pytest.raises(NotPermitted):
        fee_schedule_activate(schedule=new, actor=people.officer(), now=NOW)
    assert fee_schedule_active().version == 1
    asked = fee_schedule_activate(schedule=new, actor=people.manager(), now=NOW)
    assert approve_as_second(asked, now=NOW).is_active


def test_a_penalty_above_the_cap_once_annualised_is_refused_naming_the_charge_and_rate():
    old = launch_fee_schedule()
    usurious = schedule(2, LAUNCH_RATES, penalty_daily_rate=D("0.005000"))  # 0.5 % a day
    with translation.override("en"), pytest.raises(FeeScheduleRefused) as refused:
        fee_schedule_activate(schedule=usurious, actor=people.manager(), now=NOW)

    message = str(refused.value.message)
    assert "penalty of 0.5000% a day is 182.50% a year" in message
    assert "24.00%" in message
    assert refused.value.extra == {"charge": "penalty", "annual_rate": "1.825000"}
    usurious.refresh_from_db()
    old.refresh_from_db()
    assert (usurious.is_active, old.is_active) == (False, True)
    with translation.override("zh-hans"), pytest.raises(FeeScheduleRefused) as refused:
        fee_schedule_activate(schedule=usurious, now=NOW)
    assert "182.50%" in str(refused.value.message)
    assert "违约金" in str(refused.value.message)


def test_a_penalty_at_the_cap_is_accepted_and_the_schedule_records_the_cap_it_was_checked_on():
    launch_fee_schedule()
    at_cap = schedule(2, LAUNCH_RATES, penalty_daily_rate=D("0.000657"))  # 23.98 % a year
    fee_schedule_activate(schedule=at_cap, now=NOW)
    at_cap.refresh_from_db()
    assert (at_cap.is_active, at_cap.annual_rate_cap) == (True, D("0.240000"))


def test_whoever_activates_a_schedule_cannot_edit_the_cap(client):
    client.force_login(people.manager())
    draft = schedule(2, LAUNCH_RATES)
    assert "annual_rate_cap" not in {f.name for f in FeeSchedule._meta.fields if f.editable}
    page = client.get(f"/admin/credit/feeschedule/{draft.pk}/change/")
    assert page.status_code == 200
    assert 'name="annual_rate_cap"' not in page.content.decode()
    assert draft.annual_rate_cap is None  # a draft's cap is the setting, read at activation
