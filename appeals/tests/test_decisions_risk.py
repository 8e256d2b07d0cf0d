"""Approved LIMIT_DECREASE appeals on an announced decrease: the risk engine's cooling-off."""

from datetime import timedelta
from decimal import Decimal

import pytest

from appeals import services
from appeals.errors import DecisionNotApplicable, RestoreAmountOutOfBounds
from appeals.models import AppealStatus
from appeals.tests.factories import NOW, freeze, submit
from core.reasons import ReasonCode
from credit.models import CreditAccount, LimitChangeKind
from credit.risk.errors import PendingDecreaseUnderAppeal
from credit.risk.models import PendingLimitDecrease, PendingStatus
from credit.risk.pending import pending_decrease_confirm, pending_decrease_settle_in_run
from credit.risk.runs import run_plan
from credit.risk.tests.factories import active_policy
from testkit import reload
from testkit.credit import open_account, row_counts
from testkit.people import officer

pytestmark = pytest.mark.django_db
D = Decimal
DECIDE_AT = NOW + timedelta(hours=2)


def approve(appeal, actor=None, **kwargs):
    return services.appeal_decide(
        appeal=appeal,
        actor=actor or officer(),
        outcome=AppealStatus.APPROVED,
        note=kwargs.pop("note", "Customer explained; approved."),
        now=kwargs.pop("now", DECIDE_AT),
        **kwargs,
    )


def announce(account, new_limit="4000.00", *, effective_at=NOW + timedelta(days=3)):
    """A pending decrease as a rescoring run announces it (cooling-off until effective_at)."""
    return PendingLimitDecrease.objects.create(
        account=account,
        kind=LimitChangeKind.RESCORE,
        old_base_limit=account.base_limit,
        new_base_limit=D(new_limit),
        old_effective_limit=account.effective_limit,
        new_effective_limit=D(new_limit),
        reason_codes=[ReasonCode.RESCORE, ReasonCode.HIGH_UTILISATION],
        created_at=NOW - timedelta(days=1),
        effective_at=effective_at,
    )


# --- LIMIT_DECREASE on an announced (pending) decrease ----------------------------------------


def test_an_approved_appeal_cancels_the_announced_decrease_and_the_limit_stays():
    account = open_account("10000.00")
    pending = announce(account)
    appeal = submit(account, "pending_decrease", pending)
    reviewer = officer()

    approve(appeal, reviewer)

    pending = reload(pending)
    assert pending.status == PendingStatus.CANCELLED
    assert (pending.decided_by, pending.decided_at) == (reviewer, DECIDE_AT)
    assert f"appeal #{appeal.pk}" in pending.decision_note
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")
    appeal = reload(appeal)
    assert appeal.restored_amount == D("6000.00")  # the cut it prevented
    assert appeal.effect_reference == f"risk.pendinglimitdecrease:{pending.pk}"


def test_an_announced_decrease_can_be_appealed_by_the_link_in_its_notice(client):
    account = open_account("10000.00")
    pending = announce(account)
    client.force_login(account.customer)
    response = client.get(f"/appeals/new/?type=LIMIT_DECREASE&pending={pending.pk}")
    assert response.status_code == 200
    assert 'name="kind" value="pending_decrease"' in response.content.decode()


def test_nobody_confirms_an_announced_decrease_while_an_appeal_against_it_is_open():
    account = open_account("10000.00")
    pending = announce(account, effective_at=NOW)
    appeal = submit(account, "pending_decrease", pending)
    after = NOW + timedelta(hours=1)
    staff = officer()

    with pytest.raises(PendingDecreaseUnderAppeal):
        pending_decrease_confirm(pending=pending, actor=staff, now=after, note="due")
    active_policy()
    run = run_plan(as_of=NOW.date(), now=after)
    assert pending_decrease_settle_in_run(pending_id=pending.pk, run=run, now=after) == "held"
    assert reload(pending).status == PendingStatus.PENDING
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("10000.00")

    services.appeal_decide(
        appeal=appeal,
        actor=officer(),
        outcome=AppealStatus.REJECTED,
        note="The score stands.",
        customer_reason="Your recent repayments were late.",
        now=DECIDE_AT,
    )
    pending_decrease_confirm(pending=pending, actor=staff, now=DECIDE_AT, note="appeal rejected")

    assert reload(pending).status == PendingStatus.CONFIRMED
    assert CreditAccount.objects.get(pk=account.pk).base_limit == D("4000.00")


def test_a_cancelled_announcement_cannot_be_appealed_or_approved_again():
    account = open_account("10000.00")
    pending = announce(account)
    appeal = submit(account, "pending_decrease", pending)
    PendingLimitDecrease.objects.filter(pk=pending.pk).update(status=PendingStatus.CANCELLED)
    with pytest.raises(DecisionNotApplicable):
        approve(appeal)
    assert reload(appeal).status == AppealStatus.SUBMITTED


# --- RESTORATION within the active risk policy's bounds -------------------------------------


def test_a_reviewer_amount_outside_the_active_policy_bounds_is_refused_and_nothing_written():
    active_policy(min_limit=D("1000.00"), max_limit=D("50000.00"))
    account = open_account("10000.00")
    freeze(account)
    appeal = submit(account, "restoration", reason="New employer; contract and payslips attached.")
    reviewer = officer()
    services.appeal_assign(appeal=appeal, actor=reviewer, now=NOW)
    before = row_counts()

    for amount in ("50000.01", "999.99"):
        with pytest.raises(RestoreAmountOutOfBounds) as refused:
            approve(appeal, reviewer, restore_to=D(amount))
        assert "¥50,000.00" in str(refused.value.message)
    assert row_counts() == before

    approve(appeal, reviewer, restore_to=D("15000.00"))
    account = CreditAccount.objects.get(pk=account.pk)
    assert (account.status, account.base_limit) == ("RESTORED", D("15000.00"))


def test_the_overview_shows_an_announced_decrease_with_its_appeal_link(client):
    account = open_account("10000.00")
    pending = announce(account)
    client.force_login(account.customer)
    page = client.get("/").content.decode()
    assert 'data-notice="pending-decrease"' in page
    assert "A limit decrease is announced" in page
    assert f"kind=pending_decrease&amp;target={pending.pk}" in page
    PendingLimitDecrease.objects.filter(pk=pending.pk).update(status=PendingStatus.CANCELLED)
    assert 'data-notice="pending-decrease"' not in client.get("/").content.decode()
