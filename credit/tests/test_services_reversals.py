"""No-fault reversal (credit.services.reversals): a wrong freeze, cut or probation undone as if
it never happened — ACTIVE, the whole limit, penalties since waived, linked records, a notice
in both languages — and who may do it."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django_fsm_log.models import StateLog

from accounts.roles import Role
from conftest import shanghai
from core.events import EventType
from core.permissions import NotPermitted
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    DecisionReversal,
    FreezeReason,
    Installment,
    JournalEntry,
    JournalEntryKind,
    LimitChange,
    LimitChangeKind,
    Repayment,
    ReversalSource,
    ReversedDecision,
)
from credit.risk.features import account_features
from credit.risk.models import RiskFlag
from credit.selectors import TRANSITION_LABELS, account_history
from credit.services import (
    account_freeze,
    account_unfreeze,
    decision_reverse,
    limit_set,
    wrong_cut,
    wrong_freeze,
    wrong_probation,
)
from credit.services.errors import NothingToReverse, ReasonRequired
from credit.servicing.tests.helpers import OPENED_AT, close
from notifications.models import Channel, Notification
from notifications.rendering import notice_render
from testkit import reload
from testkit.credit import assert_ledger_holds, buy, open_account, repay, row_counts
from testkit.people import staff

D = Decimal
pytestmark = pytest.mark.django_db
FROZEN_AT = shanghai(2026, 2, 15, 9, 0)
REVERSED_AT = shanghai(2026, 2, 16, 10, 0)


@pytest.fixture
def late():
    """Limit 10,000; ¥3,000 in 3 periods, the first (1,024.00) due 10 February 2026, unpaid:
    penalties from the 14th (3 grace days)."""
    account = open_account(now=OPENED_AT, email="wrong@example.com")
    buy(account, "3000.00", term=3, now=shanghai(2026, 1, 5, 12, 0))
    return account


def penalty_due(account) -> Decimal:
    return sum((i.penalty_due for i in Installment.objects.filter(account=account)), D("0"))


def reverse_freeze(account, actor, *, reason="The officer froze the wrong customer."):
    return decision_reverse(
        account=account,
        wrong=wrong_freeze(account),
        source=ReversalSource.STAFF_ERROR,
        reason=reason,
        actor=actor,
        now=REVERSED_AT,
    )


def test_a_wrong_freeze_reversed_as_our_error_leaves_the_account_as_if_it_never_happened(late):
    officer = staff(Role.RISK_OFFICER)
    close(date(2026, 2, 15))  # two days of penalty before the freeze: the customer's own
    before_freeze = penalty_due(late)
    assert before_freeze > 0
    account_freeze(
        account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="fraud?"
    )
    close(date(2026, 2, 16))  # one more day while wrongly frozen
    assert penalty_due(late) > before_freeze

    reversal = reverse_freeze(late, officer)

    account = reload(late)
    assert account.status == AccountStatus.ACTIVE  # not RESTORED
    assert (account.probation_limit_cap, account.pre_incident_limit, account.restored_at) == (
        None,
        None,
        None,
    )
    assert account.effective_limit == D("10000.00") and account.freeze_reasons == []
    assert account.status_reason_codes == [ReasonCode.OUR_ERROR]
    # The penalty posted while wrongly frozen is waived through the journal; the earlier stays.
    assert penalty_due(account) == before_freeze
    assert reversal.penalty_waived > 0
    waiver = JournalEntry.objects.get(reference=f"reversal:{reversal.pk}")
    assert waiver.kind == JournalEntryKind.PENALTY_WAIVER
    assert_ledger_holds()
    # Both records stay, linked: the freeze's status log and the reversal's.
    freeze_log = StateLog.objects.for_(account).get(transition="freeze")
    assert (reversal.wrong, reversal.wrong_at) == (freeze_log, FROZEN_AT)
    assert (reversal.status_before, reversal.status_after) == ("FROZEN", "ACTIVE")
    assert (reversal.actor, reversal.source, reversal.decision) == (
        officer,
        ReversalSource.STAFF_ERROR,
        ReversedDecision.FREEZE,
    )
    log = StateLog.objects.for_(account).latest("pk")
    assert (log.transition, log.source_state, log.state, log.by) == (
        "reverse",
        "FROZEN",
        "ACTIVE",
        officer,
    )
    # The customer's history shows the freeze and, after it, the mistake put right.
    labels = [(e.kind, e.label) for e in account_history(account=account)]
    put_right, frozen = (str(TRANSITION_LABELS[t]) for t in ("reverse", "freeze"))
    assert labels.index(("status", put_right)) < labels.index(("status", frozen))


def test_penalties_of_the_period_already_paid_come_back_and_pay_what_is_owed(late):
    officer = staff(Role.RISK_OFFICER)
    close(date(2026, 2, 15))
    account_freeze(account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x")
    close(date(2026, 2, 16))  # one day's penalty while wrongly frozen
    first = Installment.objects.filter(account=late).order_by("due_date").first()
    one_day = (
        JournalEntry.objects.filter(
            account=late, kind=JournalEntryKind.PENALTY, created_at__gte=FROZEN_AT
        )
        .get()
        .lines.get(debit__gt=0)
        .debit
    )
    repay(late, first.amount_due, now=shanghai(2026, 2, 16, 9, 0))  # penalties paid too
    assert penalty_due(late) == 0

    reversal = reverse_freeze(late, officer)

    assert (reversal.penalty_waived, reversal.penalty_returned) == (D("0.00"), one_day)
    returned = JournalEntry.objects.get(
        reference=f"reversal:{reversal.pk}", kind=JournalEntryKind.PENALTY_RETURN
    )
    assert returned.lines.get(ledger_account="CUSTOMER_CREDIT").credit == one_day
    # The money back pays the next installment at once: no balance waits beside a debt.
    account = reload(late)
    assert account.credit_balance == 0
    assert (
        Repayment.objects.filter(account=account, channel="CREDIT_BALANCE").get().amount == one_day
    )
    assert_ledger_holds()


def test_the_customer_is_told_on_every_channel_in_both_languages(late):
    officer = staff(Role.RISK_OFFICER)
    account_freeze(account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x")
    close(date(2026, 2, 16))
    reversal = reverse_freeze(late, officer)

    rows = Notification.objects.filter(user=late.customer, event=EventType.DECISION_REVERSED)
    assert {row.channel for row in rows} == {Channel.SMS, Channel.EMAIL, Channel.IN_APP}
    assert not Notification.objects.filter(
        user=late.customer, event__in=[EventType.ACCOUNT_UNFROZEN, EventType.LIMIT_RAISED]
    ).exists()
    waived = f"¥{reversal.penalty_waived:,.2f}"
    for row in rows:
        zh = notice_render(
            channel=row.channel,
            template_key=row.template_key,
            language="zh-hans",
            context=row.context,
        )
        en = notice_render(
            channel=row.channel,
            template_key=row.template_key,
            language="en",
            context=row.context,
        )
        assert "误冻结" in zh.body and "¥10,000.00" in zh.body and waived in zh.body
        assert "froze your credit line by mistake" in en.body and waived in en.body
        assert "¥10,000.00" in en.body and "probation" in en.body


def test_only_staff_allowed_to_may_reverse_and_they_must_say_why(late):
    officer = staff(Role.RISK_OFFICER)
    account_freeze(account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x")
    before = row_counts()
    with pytest.raises(NotPermitted):
        reverse_freeze(late, staff(Role.SUPPORT_AGENT))
    with pytest.raises(ReasonRequired):
        reverse_freeze(late, officer, reason="  ")
    assert row_counts() == before
    assert reload(late).status == AccountStatus.FROZEN
    assert not DecisionReversal.objects.exists()


def test_a_decision_no_longer_in_force_is_refused_and_reversed_once(late):
    officer = staff(Role.RISK_OFFICER)
    account_freeze(account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x")
    reverse_freeze(late, officer)
    with pytest.raises(NothingToReverse):
        reverse_freeze(late, officer)
    assert DecisionReversal.objects.count() == 1


def test_only_the_wrong_reason_goes_when_another_still_holds_the_account(late):
    officer = staff(Role.RISK_OFFICER)
    account_freeze(account=late, reason=FreezeReason.SHARED_IP, now=FROZEN_AT)
    account_freeze(account=late, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x")

    reversal = decision_reverse(
        account=late,
        wrong=wrong_freeze(late, reason=FreezeReason.SHARED_IP),
        source=ReversalSource.STAFF_ERROR,
        reason="office network",
        actor=officer,
        now=REVERSED_AT,
    )

    account = reload(late)
    assert (account.status, account.freeze_reasons) == (AccountStatus.FROZEN, ["STAFF"])
    assert reversal.freeze_reason == FreezeReason.SHARED_IP
    notice = Notification.objects.get(
        user=late.customer, event=EventType.DECISION_REVERSED, channel=Channel.IN_APP
    )
    assert notice.context["still_frozen"] is True


def test_a_wrong_cut_below_what_is_owed_comes_back_active_not_restored():
    officer = staff(Role.RISK_OFFICER)
    account = open_account("10000.00")
    buy(account, "6000.00", now=OPENED_AT)
    cut = limit_set(
        account=account,
        new_base_limit=D("3000.00"),
        # A cut this deep acts at once only for a listed reason: fraud, on the wrong customer.
        reason_codes=[ReasonCode.FRAUD_CONFIRMED],
        now=FROZEN_AT,
        actor=officer,
        note="wrong customer",
    )
    assert reload(account).status == AccountStatus.NEGATIVE

    reversal = decision_reverse(
        account=account,
        wrong=wrong_cut(cut),
        source=ReversalSource.STAFF_ERROR,
        reason="cut the wrong customer",
        actor=officer,
        now=REVERSED_AT,
    )

    account = reload(account)
    assert (account.status, account.base_limit) == (AccountStatus.ACTIVE, D("10000.00"))
    assert account.pre_incident_limit is None and account.probation_limit_cap is None
    assert reversal.wrong_limit_change == cut
    given_back = reversal.limit_change
    assert (given_back.kind, given_back.old_base_limit, given_back.new_base_limit) == (
        LimitChangeKind.REVERSAL,
        D("3000.00"),
        D("10000.00"),
    )
    # The reversed cut no longer counts as a cut for the risk engine.
    features = account_features(account_id=account.pk, as_of=date(2026, 2, 17))
    assert (features["cuts_90d"], features["days_since_cut"]) == (0, None)
    assert_ledger_holds()


def test_a_wrong_probation_ends_with_the_whole_limit_back():
    officer = staff(Role.RISK_OFFICER)
    account = open_account("10000.00")
    buy(account, "1000.00", now=OPENED_AT)
    account_freeze(
        account=account, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x"
    )
    account_unfreeze(account=account, now=FROZEN_AT, actor=officer, note="ok")
    close(date(2026, 2, 16))  # probation starts: the cap at half the limit
    account = reload(account)
    assert account.status == AccountStatus.RESTORED and account.effective_limit == D("5000.00")

    reversal = decision_reverse(
        account=account,
        wrong=wrong_probation(account),
        source=ReversalSource.STAFF_ERROR,
        reason="the freeze was never justified",
        actor=officer,
        now=REVERSED_AT,
    )

    account = reload(account)
    assert (account.status, account.effective_limit) == (AccountStatus.ACTIVE, D("10000.00"))
    assert (reversal.limit_before, reversal.limit_after) == (D("5000.00"), D("10000.00"))
    assert LimitChange.objects.filter(account=account).latest("pk") == reversal.limit_change
    assert_ledger_holds()


def reverse_url(account) -> str:
    return f"{reverse('admin:credit_creditaccount_operation', args=['reverse'])}?ids={account.pk}"


def test_a_risk_officer_reverses_a_freeze_as_our_error_in_the_back_office(client):
    officer = staff(Role.RISK_OFFICER)
    client.force_login(officer)
    account = open_account()
    account_freeze(
        account=account, reason=FreezeReason.STAFF, now=FROZEN_AT, actor=officer, note="x"
    )
    response = client.post(
        reverse_url(account), {"decision": "FREEZE", "reason": "wrong customer"}, follow=True
    )
    assert response.status_code == 200
    account = reload(account)
    assert account.status == AccountStatus.ACTIVE
    reversal = DecisionReversal.objects.get(account=account)
    assert (reversal.actor, reversal.reason) == (officer, "wrong customer")


def test_the_back_office_reversal_needs_the_permission_and_a_reason(client):
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.STAFF, now=FROZEN_AT)
    before = row_counts()
    client.force_login(staff(Role.SUPPORT_AGENT))
    assert (
        client.post(reverse_url(account), {"decision": "FREEZE", "reason": "x"}).status_code == 403
    )
    client.force_login(staff(Role.RISK_OFFICER))
    page = client.post(reverse_url(account), {"decision": "FREEZE", "reason": ""})
    assert page.status_code == 200  # the form again, with its error
    assert row_counts() == before and reload(account).status == AccountStatus.FROZEN


def test_staff_reverse_one_freeze_reason_as_our_error_and_the_others_stay(client):
    client.force_login(staff(Role.RISK_OFFICER))
    account = open_account()
    account_freeze(account=account, reason=FreezeReason.SHARED_IP, now=FROZEN_AT)
    account_freeze(account=account, reason=FreezeReason.STAFF, now=FROZEN_AT)
    before = row_counts()

    absent = {"decision": "FREEZE", "freeze_reason": "RISK_RULE", "reason": "wrong rule"}
    page = client.post(reverse_url(account), absent, follow=True).content.decode()
    assert "无需撤销" in page and row_counts() == before  # the back office reads zh-hans

    wrong_ip = {"decision": "FREEZE", "freeze_reason": "SHARED_IP", "reason": "office NAT"}
    client.post(reverse_url(account), wrong_ip, follow=True)

    account = reload(account)
    assert (account.status, account.freeze_reasons) == (AccountStatus.FROZEN, ["STAFF"])
    reversal = DecisionReversal.objects.get(account=account)
    assert (reversal.freeze_reason, reversal.status_after) == ("SHARED_IP", AccountStatus.FROZEN)


def test_a_flagged_freeze_reversed_by_staff_no_longer_lowers_the_score(late):
    flagged = RiskFlag.objects.create(
        rule="SHARED_IP",
        subject="ip:203.0.113.7",
        explanation="x",
        froze_accounts=True,
        created_at=FROZEN_AT,
        updated_at=FROZEN_AT,
    )
    flagged.accounts.add(late)
    account_freeze(account=late, reason=FreezeReason.SHARED_IP, now=FROZEN_AT)
    as_of = date(2026, 2, 17)
    assert account_features(account_id=late.pk, as_of=as_of)["recent_flags"] == 1

    reverse_freeze(late, staff(Role.RISK_OFFICER))

    assert reload(flagged).status == "OPEN"  # the flag's own review is another matter
    assert account_features(account_id=late.pk, as_of=as_of)["recent_flags"] == 0
