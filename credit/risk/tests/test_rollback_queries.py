"""Rolling back a run's cuts costs a fixed number of queries per reversed cut (no timing)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from conftest import shanghai
from core.events import EventType
from credit.risk.rollback import run_rollback
from credit.risk.runs import run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, active_policy, bands
from testkit.credit import open_account
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
RUN_AT = shanghai(2026, 6, 5, 2)
LATER = shanghai(2026, 6, 5, 7)


def rollback_queries(new_accounts: int, cuts: int) -> tuple[int, list]:
    """Queries of rolling back a run that cut every account 22 000 → 20 000 (`new_accounts`
    opened first; a second run cuts again the accounts the first one's rollback put back)."""
    active_policy(score_bands=bands((300, "20000")), max_cut_percent=Decimal("60"))
    for _ in range(new_accounts):
        open_account(base_limit="22000.00", now=OPENED_AT)
    run = run_execute(run=run_plan(as_of=RUN_AT.date(), now=RUN_AT), now=RUN_AT)
    manager = staff(Role.RISK_MANAGER)
    with CaptureQueriesContext(connection) as ctx, capture_events() as events:
        report = run_rollback(run=run, actor=manager, now=LATER, note="wrong model")
    assert report["cuts_reversed_as_our_error"] == cuts
    return len(ctx.captured_queries), events


def test_each_reversed_cut_costs_at_most_eight_queries_and_the_notices_go_in_one_batch(settings):
    """Pain: a rollback of a big wrong run took ~13 queries per customer while they waited."""
    settings.RISK_BREAKER_CUT_PERCENT = 100
    three, _ = rollback_queries(3, cuts=3)
    nine, events = rollback_queries(6, cuts=9)
    assert (nine - three) / 6 <= 8
    reversed_notices = [e for e in events if e.event == EventType.DECISION_REVERSED]
    assert len(reversed_notices) == 9
