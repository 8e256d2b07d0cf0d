"""Scenario (issue #12, Must 10): a large manual cut is announced, and an appeal holds it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from appeals.services import appeal_submit
from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import AccountStatus
from credit.risk.errors import PendingDecreaseUnderAppeal
from credit.risk.manual import limit_change_by_staff
from credit.risk.models import PendingStatus
from credit.risk.pending import pending_decrease_confirm
from testkit import reload
from testkit.credit import buy, open_account
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal
NOW = shanghai(2026, 3, 2, 10, 0)


def test_a_large_manual_cut_is_announced_and_an_open_appeal_holds_it(client):
    """Pain: a staff cut of 50 % took effect at once and drove the account NEGATIVE, no notice."""
    account = open_account("10000.00", now=shanghai(2026, 1, 2, 9, 0))
    buy(account, "6000.00", term=3, now=shanghai(2026, 2, 20, 12, 0))
    officer = staff(Role.RISK_OFFICER)

    with capture_events() as events:
        pending = limit_change_by_staff(
            account=account,
            new_base_limit=D("5000.00"),
            reason_codes=[ReasonCode.STAFF_DECISION],
            note="halve it",
            actor=officer,
            now=NOW,
        )
    # Nothing happened to the account yet; the customer was told, with the date and a link.
    assert (reload(account).base_limit, reload(account).status) == (
        D("10000.00"),
        AccountStatus.ACTIVE,
    )
    [notice] = [e for e in events if e.event == "LIMIT_DECREASE_PENDING"]
    client.force_login(account.customer)
    overview = client.get("/").content.decode()
    assert 'data-notice="pending-decrease"' in overview
    assert client.get(notice.context["appeal_url"]).status_code == 200

    appeal_submit(
        customer=account.customer,
        kind="pending_decrease",
        target_id=pending.pk,
        reason="My income has not changed; I can send my latest payslips.",
        now=NOW + timedelta(hours=1),
    )
    # Past the wait, nobody may confirm it while the appeal is open.
    with pytest.raises(PendingDecreaseUnderAppeal):
        pending_decrease_confirm(
            pending=pending, actor=officer, now=pending.effective_at + timedelta(hours=1), note="go"
        )
    assert reload(pending).status == PendingStatus.PENDING
    assert reload(account).base_limit == D("10000.00")
