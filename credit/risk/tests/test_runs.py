"""Rescoring runs: decisions, set-based application, reason codes, cooling-off, breaker,
dry run, campaigns, regional policy, the nightly entry point."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from conftest import shanghai
from core.permissions import NotPermitted
from core.reasons import ReasonCode
from credit.models import (
    AccountStatus,
    CreditAccount,
    FreezeReason,
    LimitChange,
    LimitChangeKind,
    TemporaryLimitGrant,
)
from credit.risk.errors import RunAlreadyExists
from credit.risk.models import (
    PendingLimitDecrease,
    PendingStatus,
    RegionalMultiplier,
    RescoringDecision,
    RescoringRun,
    RiskFlag,
    RunGrant,
    RunStatus,
    SeasonalCampaign,
)
from credit.risk.runs import rescoring_nightly, run_approve, run_discard, run_execute, run_plan
from credit.risk.tests.factories import OPENED_AT, RUN_AT, active_policy, assert_invariants, bands
from credit.services import account_freeze
from testkit import reload
from testkit.credit import buy, open_account, repay
from testkit.events import capture_events
from testkit.people import staff

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def breaker_off(settings):
    """The breaker has its own tests; elsewhere it stays out of the way."""
    settings.RISK_BREAKER_CUT_PERCENT = 100
    settings.RISK_BREAKER_MEAN_SHIFT = 1000


def rescore(*, as_of: date | None = None, now=RUN_AT, dry_run=False, chunk_size=None):
    run = run_plan(as_of=as_of or now.date(), now=now, dry_run=dry_run, chunk_size=chunk_size)
    return run_execute(run=run, now=now)


def late_payer(**kwargs) -> CreditAccount:
    """Score 550: one repayment 10 days late last summer, 3 000 open and 28 days past due."""
    account = open_account(**kwargs, now=OPENED_AT)
    buy(account, "1200.00", now=shanghai(2025, 6, 1, 12))
    repay(account, "409.60", now=shanghai(2025, 7, 9, 12))
    repay(account, "409.60", now=shanghai(2025, 8, 20, 12))
    repay(account, "409.60", now=shanghai(2025, 9, 10, 20))
    buy(account, "3000.00", now=shanghai(2026, 1, 1, 12))
    return reload(account)


def reliable(**kwargs) -> CreditAccount:
    """Score 865 and no reason code: three purchases, nine installments all paid on time."""
    account = open_account(**kwargs, now=OPENED_AT)
    for _ in range(3):
        buy(account, "600.00", now=shanghai(2025, 4, 1, 12))
    for month in (5, 6, 7):
        repay(account, "614.40", now=shanghai(2025, month, 10, 9))
    return reload(account)


def fresh(**kwargs) -> CreditAccount:
    """Score 820: 14 months old, nothing bought, nothing owed."""
    return open_account(**kwargs, now=OPENED_AT)


def run_changes(run):
    return LimitChange.objects.filter(run_id=run.pk).order_by("account_id", "id")


# --- raises and cuts ---------------------------------------------------------------------
def test_a_run_raises_and_cuts_limits_with_reason_codes_audit_rows_and_notices():
    active_policy(score_bands=bands((300, "7500"), (700, "20000")))
    good, late = fresh(), late_payer()
    with capture_events() as events:
        run = rescore()

    assert run.status == RunStatus.APPLIED
    assert reload(good).base_limit == D("20000.00")
    assert reload(late).base_limit == D("7500.00")
    raise_, cut = run_changes(run)
    assert (raise_.account, raise_.kind, raise_.reason_codes) == (
        good,
        LimitChangeKind.RESCORE,
        [ReasonCode.GOOD_HISTORY],
    )
    assert (cut.account, cut.kind) == (late, LimitChangeKind.RESCORE)
    assert cut.reason_codes == [
        ReasonCode.CURRENTLY_PAST_DUE,
        ReasonCode.LATE_REPAYMENTS,
        ReasonCode.PAST_DUE_HISTORY,
    ]
    assert (cut.old_effective_limit, cut.new_effective_limit) == (D("10000.00"), D("7500.00"))
    assert cut.actor is None and cut.created_at == RUN_AT

    notices = {(e.event, e.user_id): e for e in events}
    raised = notices[("LIMIT_RAISED", good.customer_id)]
    assert raised.context["new_limit"] == "20000.00"
    assert raised.dedupe_key == f"limit-change:{raise_.pk}"
    cut_notice = notices[("LIMIT_CUT", late.customer_id)]
    assert cut_notice.context["reason_codes"] == cut.reason_codes
    assert len(cut_notice.context["reasons"]) == 3
    assert cut_notice.context["available"] == "4500.00"
    assert len(events) == 2

    decision = RescoringDecision.objects.get(run=run, account=late)
    assert (decision.score, decision.action, decision.late_12m, decision.current_dpd) == (
        550,
        "CUT",
        2,
        28,
    )
    assert run.summary["applied"]["raised"] == 1 and run.summary["applied"]["cut"] == 1
    assert_invariants()


def test_every_cut_carries_reason_codes_even_when_the_score_lost_nothing():
    # A spotless score, but the policy's only band is lower than the limit: the cut says RESCORE.
    active_policy(score_bands=bands((300, "8000")))
    accounts = [reliable(), late_payer(), fresh(province_code="44")]
    run = rescore()
    cuts = [c for c in run_changes(run) if c.new_base_limit < c.old_base_limit]
    assert len(cuts) == len(accounts)
    assert all(c.reason_codes for c in cuts)
    assert run_changes(run).filter(account=accounts[0]).get().reason_codes == [ReasonCode.RESCORE]
    assert RescoringDecision.objects.get(run=run, account=accounts[0]).score == 865
    assert all(d.reason_codes for d in RescoringDecision.objects.filter(run=run, action="CUT"))


def test_frozen_accounts_are_held_and_accounts_over_their_limit_get_no_raise():
    active_policy(score_bands=bands((300, "20000")))
    frozen = fresh()
    account_freeze(account=frozen, reason=FreezeReason.STAFF, now=RUN_AT - timedelta(days=1))
    run = rescore()
    decision = RescoringDecision.objects.get(run=run, account=frozen)
    assert decision.action == "HOLD"
    assert reload(frozen).base_limit == D("10000.00")
    assert not run_changes(run).exists()


def test_no_raise_within_the_cool_down_after_a_cut():
    active_policy(score_bands=bands((300, "9000")), raise_cooldown_days=90)
    account = fresh()
    rescore(now=RUN_AT)
    assert reload(account).base_limit == D("9000.00")
    active_policy(score_bands=bands((300, "20000")), raise_cooldown_days=90)
    run = rescore(now=RUN_AT + timedelta(days=30))
    assert RescoringDecision.objects.get(run=run, account=account).action == "KEEP"
    assert reload(account).base_limit == D("9000.00")


# --- cooling-off -------------------------------------------------------------------------
def test_a_deep_cut_is_announced_with_reasons_date_and_appeal_link_not_applied():
    active_policy(score_bands=bands((300, "5000")))
    account = late_payer()
    with capture_events() as events:
        run = rescore()
    assert reload(account).base_limit == D("10000.00")
    assert not run_changes(run).exists()
    pending = PendingLimitDecrease.objects.get(account=account)
    assert (pending.old_base_limit, pending.new_base_limit, pending.status) == (
        D("10000.00"),
        D("5000.00"),
        PendingStatus.PENDING,
    )
    assert pending.effective_at == RUN_AT + timedelta(hours=72)
    assert pending.reason_codes[0] == ReasonCode.CURRENTLY_PAST_DUE
    (notice,) = events
    assert notice.event == "LIMIT_DECREASE_PENDING"
    assert notice.context["effective_date"] == "2026-03-13"
    assert notice.context["appeal_url"] == f"/appeals/new/?type=LIMIT_DECREASE&pending={pending.pk}"
    assert notice.context["reason_codes"] == pending.reason_codes
    assert notice.context["new_limit"] == "5000.00"
    decision = RescoringDecision.objects.get(run=run)
    assert (decision.action, decision.pending_action) == ("HOLD", "CREATE")


def test_a_cut_that_would_take_available_below_zero_is_announced_however_small():
    active_policy(score_bands=bands((300, "9000")))
    account = fresh()
    buy(account, "9500.00", now=RUN_AT - timedelta(days=3))
    rescore()
    pending = PendingLimitDecrease.objects.get(account=account)
    assert pending.new_base_limit == D("9000.00")
    assert reload(account).status == AccountStatus.ACTIVE


def test_a_later_run_confirms_a_due_announcement_and_a_cut_below_what_is_owed_goes_negative():
    active_policy(score_bands=bands((300, "9000")))
    account = fresh()
    buy(account, "9500.00", now=RUN_AT - timedelta(days=3))
    rescore()
    later = RUN_AT + timedelta(days=4)
    with capture_events() as events:
        run = rescore(now=later)
    pending = PendingLimitDecrease.objects.get(account=account)
    assert (pending.status, pending.decided_by_run) == (PendingStatus.CONFIRMED, run)
    account = reload(account)
    assert account.base_limit == D("9000.00")
    assert account.status == AccountStatus.NEGATIVE
    change = pending.limit_change
    assert (change.run_id, change.reason_codes) == (run.pk, pending.reason_codes)
    assert {e.event for e in events} == {"LIMIT_CUT", "ACCOUNT_NEGATIVE"}
    assert_invariants()


def test_an_announcement_still_cooling_off_is_held_by_the_next_run():
    active_policy(score_bands=bands((300, "5000")))
    account = late_payer()
    rescore()
    run = rescore(now=RUN_AT + timedelta(days=1))
    decision = RescoringDecision.objects.get(run=run)
    assert (decision.action, decision.pending_action) == ("HOLD", "WAIT")
    assert PendingLimitDecrease.objects.get(account=account).status == PendingStatus.PENDING


def test_a_later_run_cancels_an_announcement_the_score_no_longer_justifies():
    active_policy(score_bands=bands((300, "5000")))
    account = late_payer()
    rescore()
    repay(account, "3000.00", now=RUN_AT + timedelta(days=2))  # catches up
    active_policy(score_bands=bands((300, "5000"), (600, "10000")))
    with capture_events() as events:
        run = rescore(now=RUN_AT + timedelta(days=4))
    pending = PendingLimitDecrease.objects.get(account=account)
    assert (pending.status, pending.decided_by_run) == (PendingStatus.CANCELLED, run)
    assert [(e.event, e.dedupe_key) for e in events] == [
        ("LIMIT_DECREASE_CANCELLED", f"pending-decrease:{pending.pk}:cancelled")
    ]
    assert reload(account).base_limit == D("10000.00")
    assert not run_changes(run).exists()


def test_a_milder_cut_replaces_an_announcement_with_a_new_one_and_no_withdrawal_notice():
    active_policy(score_bands=bands((300, "2000")))
    account = late_payer()
    rescore()
    first = PendingLimitDecrease.objects.get(account=account)
    active_policy(score_bands=bands((300, "5000")))  # still deep enough to cool off
    with capture_events() as events:
        rescore(now=RUN_AT + timedelta(days=1))
    assert reload(first).status == PendingStatus.CANCELLED
    second = PendingLimitDecrease.objects.get(account=account, status=PendingStatus.PENDING)
    assert second.new_base_limit == D("5000.00")
    assert [e.event for e in events] == ["LIMIT_DECREASE_PENDING"]


# --- circuit breaker ---------------------------------------------------------------------
def test_the_breaker_holds_a_run_cutting_too_many_accounts_until_a_manager_approves(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 5
    active_policy(score_bands=bands((300, "7500"), (700, "20000")))
    good, late = fresh(), late_payer()
    with capture_events() as events:
        run = rescore()
    assert run.status == RunStatus.AWAITING_APPROVAL
    assert not run_changes(run).exists() and events == []
    assert reload(late).base_limit == D("10000.00")
    summary = run.summary
    assert summary["actions"] == {"RAISE": 1, "KEEP": 0, "CUT": 1, "HOLD": 0}
    assert summary["breaker"]["tripped"] and "cuts 50.0%" in summary["breaker"]["reasons"][0]
    assert sum(b["accounts"] for b in summary["histogram"]) == 2
    assert summary["top_cut_reasons"][0]["code"] == ReasonCode.CURRENTLY_PAST_DUE

    with pytest.raises(NotPermitted):
        run_approve(run=run, actor=staff(Role.RISK_OFFICER), now=RUN_AT)
    manager = staff(Role.RISK_MANAGER)
    run_approve(run=run, actor=manager, now=RUN_AT + timedelta(hours=7))
    run = run_execute(run=run, now=RUN_AT + timedelta(hours=7))
    assert run.status == RunStatus.APPLIED
    assert (reload(good).base_limit, reload(late).base_limit) == (D("20000.00"), D("7500.00"))
    assert run.approved_by == manager
    assert_invariants()


def test_the_breaker_trips_when_the_mean_score_moves_too_far_from_the_last_applied_run(settings):
    settings.RISK_BREAKER_MEAN_SHIFT = 25
    active_policy()
    accounts = [fresh(), fresh()]
    first = rescore()
    assert first.status == RunStatus.APPLIED and first.summary["mean_score"] == 820
    for account in accounts:  # a rule misfired: everyone flagged, −40 points each
        flag = RiskFlag.objects.create(
            rule="SHARED_IP",
            subject=f"ip:10.0.0.{account.pk}",
            explanation="x",
            created_at=RUN_AT,
            updated_at=RUN_AT,
        )
        flag.accounts.add(account)
    second = rescore(now=RUN_AT + timedelta(days=1))
    assert second.status == RunStatus.AWAITING_APPROVAL
    assert second.summary["breaker"]["mean_shift"] == -40
    assert "mean score moved -40" in second.summary["breaker"]["reasons"][0]


def test_a_discarded_run_applies_nothing_and_only_a_manager_may_discard(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 5
    active_policy(score_bands=bands((300, "7500")))
    late = late_payer()
    run = rescore()
    with pytest.raises(NotPermitted):
        run_discard(run=run, actor=staff(Role.SUPPORT_AGENT), now=RUN_AT)
    run = run_discard(run=run, actor=staff(Role.RISK_MANAGER), now=RUN_AT, note="model bug")
    assert run.status == RunStatus.DISCARDED
    assert run_execute(run=run, now=RUN_AT).status == RunStatus.DISCARDED
    assert reload(late).base_limit == D("10000.00")
    assert not LimitChange.objects.filter(run_id=run.pk).exists()


# --- dry run -----------------------------------------------------------------------------
def snapshot():
    return {
        "accounts": list(
            CreditAccount.objects.order_by("pk").values_list(
                "base_limit", "temporary_limit", "status"
            )
        ),
        "limit_changes": LimitChange.objects.count(),
        "pendings": list(PendingLimitDecrease.objects.values_list("pk", "status")),
        "grants": TemporaryLimitGrant.objects.count(),
    }


def test_a_dry_run_computes_everything_and_applies_nothing():
    policy = active_policy(score_bands=bands((300, "5000"), (600, "7500"), (700, "20000")))
    SeasonalCampaign.objects.create(
        policy=policy,
        name="618",
        amount=D("2000"),
        starts_at=shanghai(2026, 3, 1),
        ends_at=shanghai(2026, 3, 31),
        min_score=700,
    )
    fresh(), late_payer(), fresh(base_limit="15000")
    before = snapshot()
    with capture_events() as events:
        run = rescore(dry_run=True)
    assert run.status == RunStatus.SIMULATED
    assert snapshot() == before
    assert events == []
    assert RescoringDecision.objects.filter(run=run).count() == 3
    assert run.summary["actions"]["RAISE"] == 2 and run.summary["pending"] == {"CREATE": 1}
    assert run.summary["campaign_grants"] == 2
    assert "breaker" in run.summary


def test_dry_runs_do_not_block_the_live_run_of_the_same_date():
    active_policy()
    fresh()
    rescore(dry_run=True)
    rescore(dry_run=True)
    assert rescore().status == RunStatus.APPLIED
    with pytest.raises(RunAlreadyExists):
        run_plan(as_of=RUN_AT.date(), now=RUN_AT)


# --- campaigns and regions ----------------------------------------------------------------
def test_a_campaign_grants_its_temporary_limit_once_to_eligible_accounts_between_its_dates():
    policy = active_policy(score_bands=bands((300, "7500"), (700, "10000")))
    campaign = SeasonalCampaign.objects.create(
        policy=policy,
        name="618-2026",
        amount=D("3000"),
        starts_at=shanghai(2026, 6, 1),
        ends_at=shanghai(2026, 6, 19),
        min_score=700,
    )
    good, late = fresh(), late_payer()
    frozen = fresh()
    account_freeze(account=frozen, reason=FreezeReason.STAFF, now=RUN_AT)

    before = rescore(now=shanghai(2026, 5, 31, 2))
    assert not RunGrant.objects.filter(run=before).exists()
    with capture_events() as events:
        during = rescore(now=shanghai(2026, 6, 5, 2))
    grant = TemporaryLimitGrant.objects.get()
    assert (grant.account, grant.amount, grant.campaign) == (good, D("3000.00"), campaign.name)
    assert grant.ends_at == campaign.ends_at and grant.status == "ACTIVE"
    assert reload(good).temporary_limit == D("3000.00")
    assert reload(good).effective_limit == D("13000.00")
    change = LimitChange.objects.get(run_id=during.pk, kind=LimitChangeKind.TEMPORARY_GRANT)
    assert change.reason_codes == [ReasonCode.CAMPAIGN] and change.new_effective_limit == D(
        "13000.00"
    )
    assert [e.event for e in events] == ["TEMPORARY_LIMIT_GRANTED"]
    rescore(now=shanghai(2026, 6, 6, 2))
    rescore(now=shanghai(2026, 6, 25, 2))
    assert TemporaryLimitGrant.objects.count() == 1
    assert late.temporary_grants.count() == frozen.temporary_grants.count() == 0
    assert_invariants()


def test_a_regional_multiplier_alone_cuts_with_kind_and_reason_regional_policy():
    policy = active_policy(score_bands=bands((300, "10000")))
    RegionalMultiplier.objects.create(
        policy=policy, province_code="44", multiplier="0.8", effective_from=date(2026, 3, 10)
    )
    guangdong, shanghai_account = fresh(province_code="44"), fresh(province_code="31")
    earlier = rescore(now=RUN_AT - timedelta(days=1))
    assert not run_changes(earlier).exists()
    run = rescore()
    (change,) = run_changes(run)
    assert change.account == guangdong
    assert (change.kind, change.reason_codes) == (
        LimitChangeKind.REGIONAL_POLICY,
        [ReasonCode.REGIONAL_POLICY],
    )
    assert change.new_base_limit == D("8000.00")
    assert reload(shanghai_account).base_limit == D("10000.00")
    assert RescoringDecision.objects.get(run=run, account=guangdong).multiplier == D("0.8")


def test_a_multiplier_deepening_a_scorecard_cut_adds_the_regional_reason():
    policy = active_policy(score_bands=bands((300, "8000"), (700, "10000")))
    RegionalMultiplier.objects.create(
        policy=policy, province_code="44", multiplier="0.9", effective_from=date(2026, 1, 1)
    )
    account = late_payer(province_code="44")
    run = rescore()
    (change,) = run_changes(run)
    assert change.kind == LimitChangeKind.RESCORE
    assert change.new_base_limit == D("7200.00")
    assert change.reason_codes[-1] == ReasonCode.REGIONAL_POLICY
    assert change.reason_codes[0] == ReasonCode.CURRENTLY_PAST_DUE
    assert reload(account).base_limit == D("7200.00")


# --- nightly -----------------------------------------------------------------------------
def test_the_nightly_job_scores_each_date_once():
    active_policy(score_bands=bands((300, "12000")))
    account = fresh()
    first = rescoring_nightly(now=RUN_AT)
    assert first.status == RunStatus.APPLIED
    assert rescoring_nightly(now=RUN_AT + timedelta(minutes=5)) is None
    assert RescoringRun.objects.count() == 1
    assert LimitChange.objects.filter(account=account, run_id__isnull=False).count() == 1


def test_a_new_run_supersedes_an_older_one_nobody_approved(settings):
    settings.RISK_BREAKER_CUT_PERCENT = 5
    active_policy(score_bands=bands((300, "7500")))
    late_payer()
    held = rescore()
    assert held.status == RunStatus.AWAITING_APPROVAL
    newer = rescore(now=RUN_AT + timedelta(days=1))
    assert reload(held).status == RunStatus.DISCARDED
    assert newer.status == RunStatus.AWAITING_APPROVAL


def test_the_histogram_has_fifty_point_bins_the_last_holding_900():
    from credit.risk.runs import run_summary

    active_policy()
    accounts = [fresh(), fresh(), late_payer()]
    run = rescore(dry_run=True)
    scores = {350: accounts[0], 399: accounts[1], 900: accounts[2]}
    for score, account in scores.items():
        RescoringDecision.objects.filter(run=run, account=account).update(score=score)
    bins = {(b["from"], b["to"]): b["accounts"] for b in run_summary(run)["histogram"]}
    assert bins[(350, 399)] == 2 and bins[(850, 900)] == 1
    assert len(bins) == 12 and sum(bins.values()) == 3
