"""Rescoring runs: plan, execute (chunked, resumable), breaker, approve, discard.

    PLANNED ──start──▶ RUNNING ──▶ APPLIED ──rollback──▶ ROLLED_BACK
                          │  ╰──▶ SIMULATED (dry run: everything computed, nothing applied)
                          ╰──breaker──▶ AWAITING_APPROVAL ──approve──▶ APPLIED
                                                         ╰──discard──▶ DISCARDED
    (any unfinished state) ──after RISK_RUN_MAX_ATTEMPTS failures──▶ FAILED

Execution, `run_execute(run=…, now=…)`:
1. start: freeze the account-id range, cut it into chunks (RescoringChunk, by id ranges);
2. score: per chunk, one transaction inserts the chunk's decisions (features, score,
   reasons, proposal, action: credit.risk.decide) and stamps `scored_at`;
3. summarise and judge: counts per action, score histogram, top reason codes of the cuts,
   mean score; the circuit breaker trips when the cuts exceed RISK_BREAKER_CUT_PERCENT of
   the scored accounts or the mean moved more than RISK_BREAKER_MEAN_SHIFT points against
   the last applied run. A dry run stops here (SIMULATED), a tripped run at
   AWAITING_APPROVAL until a risk manager approves (then it continues) or discards it;
4. apply: per chunk, one transaction cancels the announcements the scores no longer
   justify, moves raised and cut limits (UPDATE … FROM decisions, LimitChange rows with the
   run id, LIMIT_RAISED / LIMIT_CUT events), announces deep cuts (pending decreases,
   LIMIT_DECREASE_PENDING), confirms announcements that are due (via limit_set), creates
   campaign grants, and stamps `applied_at`.

A run killed at any point resumes where it stopped: every chunk's writes and its stamp
commit together, so a restarted execution skips finished chunks and applies nothing twice.
A session-level advisory lock keeps two processes from executing the same run at once (a
killed process's lock dies with its connection). An exception leaves the run where it was
(with the error and an attempt counted) for the next execution; after
RISK_RUN_MAX_ATTEMPTS it is FAILED.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from accounts.models import User
from core.permissions import permission_require
from credit.models import CreditAccount
from credit.risk import bulk
from credit.risk.decide import campaigns_running, chunk_decide
from credit.risk.errors import RunAlreadyExists, RunBusy, RunNotInState
from credit.risk.features import jit_off
from credit.risk.models import (
    LIVE_RUN_STATUSES,
    PendingAction,
    RescoringChunk,
    RescoringDecision,
    RescoringRun,
    RunStatus,
)
from credit.risk.pending import pending_decrease_settle_in_run
from credit.risk.policy import policy_active
from credit.risk.scorecard import MAX_SCORE, MIN_SCORE, scoring_model

logger = logging.getLogger(__name__)

APPROVE_PERMISSION = "risk.approve_rescoringrun"
RUN_LOCK_NAMESPACE = 0x7269736B  # "risk"
HISTOGRAM_WIDTH = 50
HISTOGRAM_BUCKETS = (MAX_SCORE - MIN_SCORE) // HISTOGRAM_WIDTH  # 300–349 … 850–900

CUTTING_PENDING_ACTIONS = (PendingAction.CREATE, PendingAction.REPLACE)


def _log(reason: str, note: str = "") -> str:
    return " | ".join(part for part in (reason, note) if part)


# --- plan --------------------------------------------------------------------------------
@transaction.atomic
def run_plan(
    *,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    actor: User | None = None,
    chunk_size: int | None = None,
) -> RescoringRun:
    """A new run as of `as_of` with the active policy and today's thresholds.

    Refused while another live run is being computed or applied, or when the date already
    has an applied run or one waiting for approval. A run of an earlier date still waiting
    for an approval nobody gave is superseded (DISCARDED): its decisions were computed on
    older data, and this run recomputes them.
    """
    policy = policy_active()
    if not dry_run:
        live = RescoringRun.objects.select_for_update().filter(dry_run=False)
        if live.filter(
            Q(status__in=[RunStatus.PLANNED, RunStatus.RUNNING])
            | Q(status=RunStatus.AWAITING_APPROVAL, approved_at__isnull=False)
        ).exists():
            raise RunAlreadyExists(
                "Another rescoring run is being computed or applied; wait for it to finish."
            )
        if live.filter(
            as_of=as_of, status__in=[RunStatus.APPLIED, RunStatus.AWAITING_APPROVAL]
        ).exists():
            raise RunAlreadyExists()
        for stale in live.filter(status=RunStatus.AWAITING_APPROVAL, approved_at__isnull=True):
            stale.discard(
                at=now, by=actor, description=_log("SUPERSEDED", f"by a run as of {as_of}")
            )
            stale.note = _log(stale.note, f"superseded by a new run as of {as_of}")
            stale.save()
    model = scoring_model()
    return RescoringRun.objects.create(
        as_of=as_of,
        dry_run=dry_run,
        policy=policy,
        model_name=f"{model.name} v{model.version}",
        chunk_size=chunk_size or settings.RISK_CHUNK_SIZE,
        cooling_off_percent=settings.RISK_COOLING_OFF_CUT_PERCENT,
        cooling_off_hours=settings.RISK_COOLING_OFF_HOURS,
        breaker_cut_percent=settings.RISK_BREAKER_CUT_PERCENT,
        breaker_mean_shift=settings.RISK_BREAKER_MEAN_SHIFT,
        planned_at=now,
        created_by=actor,
    )


# --- execute -----------------------------------------------------------------------------
@contextmanager
def _run_lock(run_id: int) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_NAMESPACE, run_id])
        if not cursor.fetchone()[0]:
            raise RunBusy()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_NAMESPACE, run_id])


def run_execute(*, run: RescoringRun, now: datetime, throttle: float = 0.0) -> RescoringRun:
    """Carry the run as far as it can go now (see the module docstring); safe to repeat.

    `throttle`: seconds to sleep between chunks, to spare the database in busy hours.
    """
    with _run_lock(run.pk):
        run = RescoringRun.objects.select_related("policy").get(pk=run.pk)
        try:
            if run.status == RunStatus.PLANNED:
                _start(run, now)
            if run.status == RunStatus.RUNNING:
                _score_chunks(run, now, throttle)
                run = _judge(run, now)
            if run.status == RunStatus.RUNNING or (
                run.status == RunStatus.AWAITING_APPROVAL and run.approved_at is not None
            ):
                _apply_chunks(run, now, throttle)
                _finish(run, now)
        except Exception as exc:
            _record_failure(run.pk, exc, now)
            raise
    return RescoringRun.objects.get(pk=run.pk)


@transaction.atomic
def _start(run: RescoringRun, now: datetime) -> None:
    bounds = CreditAccount.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    lo, hi = bounds["lo"] or 1, bounds["hi"] or 0
    chunks = []
    for number, first in enumerate(range(lo, hi + 1, run.chunk_size), start=1):
        chunks.append(
            RescoringChunk(
                run=run,
                number=number,
                first_account_id=first,
                last_account_id=min(hi, first + run.chunk_size - 1),
            )
        )
    RescoringChunk.objects.bulk_create(chunks)
    run.max_account_id = hi
    run.start(at=now, description=_log("RESCORE", f"{len(chunks)} chunks"))
    run.save()


def _score_chunks(run: RescoringRun, now: datetime, throttle: float) -> None:
    model = scoring_model()
    with_campaigns = campaigns_running(run, now)
    for chunk in run.chunks.filter(scored_at__isnull=True).order_by("number"):
        with transaction.atomic():
            # Re-check under a lock: another execution may have done it meanwhile.
            chunk = RescoringChunk.objects.select_for_update().get(pk=chunk.pk)
            if chunk.scored_at is not None:
                continue
            chunk.decisions = chunk_decide(
                run=run,
                model=model,
                lo=chunk.first_account_id,
                hi=chunk.last_account_id,
                now=now,
                with_campaigns=with_campaigns,
            )
            chunk.scored_at = now
            chunk.save(update_fields=["decisions", "scored_at"])
        if throttle:
            time.sleep(throttle)


def run_summary(run: RescoringRun) -> dict:
    """Counts per action, score histogram, top reason codes of the cuts, mean score."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT action, pending_action, count(*), sum(score),
                   count(*) FILTER (WHERE campaign_id IS NOT NULL)
              FROM risk_rescoringdecision WHERE run_id = %s
             GROUP BY action, pending_action
            """,
            [run.pk],
        )
        groups = cursor.fetchall()
        cursor.execute(
            """
            SELECT LEAST((score - %s) / %s + 1, %s) AS bucket, count(*)
              FROM risk_rescoringdecision WHERE run_id = %s GROUP BY bucket ORDER BY bucket
            """,
            [MIN_SCORE, HISTOGRAM_WIDTH, HISTOGRAM_BUCKETS, run.pk],
        )
        buckets = dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT code, count(*) FROM risk_rescoringdecision d, unnest(d.reason_codes) AS code
             WHERE d.run_id = %s AND (d.action = 'CUT' OR d.pending_action IN ('CREATE', 'REPLACE'))
             GROUP BY code ORDER BY count(*) DESC, code LIMIT 8
            """,
            [run.pk],
        )
        reasons = cursor.fetchall()
    actions = dict.fromkeys(("RAISE", "KEEP", "CUT", "HOLD"), 0)
    pending = {}
    scored = score_total = campaign = 0
    for action, pending_action, count, score_sum, campaigns in groups:
        actions[action] += count
        pending[pending_action] = pending.get(pending_action, 0) + count
        scored += count
        score_total += score_sum or 0
        campaign += campaigns
    cuts = actions["CUT"] + sum(pending.get(p, 0) for p in CUTTING_PENDING_ACTIONS)
    histogram = [
        {
            "from": MIN_SCORE + (bucket - 1) * HISTOGRAM_WIDTH,
            # The last bin also holds 900.
            "to": MIN_SCORE + bucket * HISTOGRAM_WIDTH - (0 if bucket == HISTOGRAM_BUCKETS else 1),
            "accounts": buckets.get(bucket, 0),
        }
        for bucket in range(1, HISTOGRAM_BUCKETS + 1)
    ]
    return {
        "scored": scored,
        "actions": actions,
        "pending": {k: v for k, v in sorted(pending.items()) if k != PendingAction.NONE},
        "cuts": cuts,
        "cut_percent": round(100 * cuts / scored, 2) if scored else 0.0,
        "mean_score": round(score_total / scored, 2) if scored else None,
        "campaign_grants": campaign,
        "histogram": histogram,
        "top_cut_reasons": [{"code": code, "accounts": n} for code, n in reasons],
    }


def _previous_mean(run: RescoringRun) -> tuple[int | None, float | None]:
    previous = (
        RescoringRun.objects.filter(dry_run=False, status=RunStatus.APPLIED)
        .exclude(pk=run.pk)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if previous is None:
        return None, None
    return previous.pk, previous.summary.get("mean_score")


def breaker_verdict(run: RescoringRun, summary: dict) -> dict:
    reasons = []
    if summary["cut_percent"] > float(run.breaker_cut_percent):
        reasons.append(
            f"cuts {summary['cut_percent']}% of scored accounts > {run.breaker_cut_percent}%"
        )
    previous_id, previous_mean = _previous_mean(run)
    shift = None
    if previous_mean is not None and summary["mean_score"] is not None:
        shift = round(summary["mean_score"] - previous_mean, 2)
        if abs(shift) > run.breaker_mean_shift:
            reasons.append(
                f"mean score moved {shift:+} points against run {previous_id} "
                f"(limit ±{run.breaker_mean_shift})"
            )
    return {
        "tripped": bool(reasons),
        "reasons": reasons,
        "previous_run": previous_id,
        "previous_mean_score": previous_mean,
        "mean_shift": shift,
    }


@transaction.atomic
def _judge(run: RescoringRun, now: datetime) -> RescoringRun:
    run = (
        RescoringRun.objects.select_related("policy").select_for_update(of=("self",)).get(pk=run.pk)
    )
    summary = run_summary(run)
    summary["breaker"] = breaker_verdict(run, summary)
    run.summary = summary
    if run.dry_run:
        run.mark_simulated(at=now, description=_log("DRY_RUN"))
    elif summary["breaker"]["tripped"]:
        run.hold_for_approval(
            at=now, description=_log("CIRCUIT_BREAKER", "; ".join(summary["breaker"]["reasons"]))
        )
    run.save()
    return run


def _apply_chunks(run: RescoringRun, now: datetime, throttle: float) -> None:
    for chunk in run.chunks.filter(applied_at__isnull=True).order_by("number"):
        with transaction.atomic():
            chunk = RescoringChunk.objects.select_for_update().get(pk=chunk.pk)
            if chunk.applied_at is not None:
                continue
            chunk.applied_counts = chunk_apply(run=run, chunk=chunk, now=now)
            chunk.applied_at = now
            chunk.save(update_fields=["applied_counts", "applied_at"])
        if throttle:
            time.sleep(throttle)


_RAISES_AND_CUTS = """
    SELECT d.account_id, d.old_base_limit AS old_base, d.new_base_limit AS new_base,
           d.kind, d.reason_codes, d.account_status AS expected_status, d.action
      FROM risk_rescoringdecision d
     WHERE d.run_id = %(run_id)s AND d.account_id BETWEEN %(lo)s AND %(hi)s
       AND d.action IN ('RAISE', 'CUT') AND d.pending_action <> 'CONFIRM'
"""
# Only accounts still in the status they were scored in, that need no status transition
# (raises keep available up; a cut that would now take available below zero waits for the
# next run rather than hit the customer without the cooling-off).
_APPLY_GUARD = f"a.status = src.expected_status AND {bulk.STATUS_STAYS_CONSISTENT}"


def chunk_apply(*, run: RescoringRun, chunk: RescoringChunk, now: datetime) -> dict:
    """Apply one chunk's decisions (inside the caller's transaction)."""
    with connection.cursor() as cursor:
        jit_off(cursor)
    window = {"run_id": run.pk, "lo": chunk.first_account_id, "hi": chunk.last_account_id}
    counts = {
        "pending_cancelled": bulk.pending_decreases_cancel_superseded(
            **window,
            now=now,
            note=f"run {run.pk}: superseded (the score or the limit changed since)",
        )
    }
    moved = bulk.base_limits_set(
        source_sql=_RAISES_AND_CUTS,
        params=window,
        guard_sql=_APPLY_GUARD,
        run_id=run.pk,
        actor_id=None,
        note="",
        now=now,
    )
    counts["raised"] = sum(1 for m in moved if m.new_effective > m.old_effective)
    counts["cut"] = sum(1 for m in moved if m.new_effective < m.old_effective)
    counts["limit_changes"] = len(moved)
    planned = (
        RescoringDecision.objects.filter(
            run=run,
            account_id__gte=chunk.first_account_id,
            account_id__lte=chunk.last_account_id,
            action__in=["RAISE", "CUT"],
        )
        .exclude(pending_action=PendingAction.CONFIRM)
        .count()
    )
    counts["skipped_changed_since"] = planned - len(moved)
    counts["pending_created"] = bulk.pending_decreases_create(
        **window, now=now, hours=run.cooling_off_hours
    )
    confirmations = RescoringDecision.objects.filter(
        run=run,
        account_id__gte=chunk.first_account_id,
        account_id__lte=chunk.last_account_id,
        pending_action=PendingAction.CONFIRM,
    ).values_list("pending_id", flat=True)
    outcomes = [
        pending_decrease_settle_in_run(pending_id=pending_id, run=run, now=now)
        for pending_id in confirmations.order_by("account_id")
    ]
    counts["pending_confirmed"] = outcomes.count("confirmed")
    counts["pending_held"] = outcomes.count("held")
    counts["pending_cancelled"] += outcomes.count("cancelled")
    counts["campaign_grants"] = bulk.campaign_grants_create(**window, now=now)
    return counts


@transaction.atomic
def _finish(run: RescoringRun, now: datetime) -> None:
    run = RescoringRun.objects.select_for_update().get(pk=run.pk)
    if run.chunks.filter(applied_at__isnull=True).exists():
        return
    totals: dict[str, int] = {}
    for counts in run.chunks.values_list("applied_counts", flat=True):
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    run.summary = {**run.summary, "applied": totals}
    run.mark_applied(
        at=now,
        by=run.approved_by,
        description=_log("RESCORE", "approved" if run.approved_at else ""),
    )
    run.save()


def _record_failure(run_id: int, exc: Exception, now: datetime) -> None:
    """Count the attempt (its own transaction); FAILED after too many."""
    try:
        with transaction.atomic():
            run = RescoringRun.objects.select_for_update().get(pk=run_id)
            run.attempts += 1
            run.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if run.attempts >= settings.RISK_RUN_MAX_ATTEMPTS and run.status in (
                RunStatus.PLANNED,
                RunStatus.RUNNING,
                RunStatus.AWAITING_APPROVAL,
            ):
                run.fail(at=now, error=run.last_error, description=_log("FAILED", run.last_error))
            run.save()
    except Exception:  # the database itself may be what failed
        logger.exception("could not record the failure of rescoring run %s", run_id)


# --- approval ----------------------------------------------------------------------------
@transaction.atomic
def run_approve(*, run: RescoringRun, actor: User, now: datetime, note: str = "") -> RescoringRun:
    """A risk manager lets a run held by the circuit breaker apply (executed afterwards)."""
    permission_require(actor, APPROVE_PERMISSION)
    run = RescoringRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.AWAITING_APPROVAL or run.approved_at is not None:
        raise RunNotInState()
    run.approved_by, run.approved_at = actor, now
    run.note = _log(run.note, note)
    run.save(update_fields=["approved_by", "approved_at", "note"])
    return run


@transaction.atomic
def run_discard(*, run: RescoringRun, actor: User, now: datetime, note: str = "") -> RescoringRun:
    """A risk manager throws a held run away: nothing of it is applied."""
    permission_require(actor, APPROVE_PERMISSION)
    run = RescoringRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.AWAITING_APPROVAL or run.approved_at is not None:
        raise RunNotInState()
    run.discard(at=now, by=actor, description=_log("DISCARDED", note))
    run.note = _log(run.note, note)
    run.save()
    return run


# --- entry points --------------------------------------------------------------------------
def runs_unfinished():
    """Live runs an execution should carry on: started, or approved and not yet applied."""
    return RescoringRun.objects.filter(dry_run=False).filter(
        Q(status__in=[RunStatus.PLANNED, RunStatus.RUNNING])
        | Q(status=RunStatus.AWAITING_APPROVAL, approved_at__isnull=False)
    )


def rescoring_nightly(*, now: datetime, as_of: date | None = None) -> RescoringRun | None:
    """The nightly job: finish an interrupted run, then score today (once per date). Two
    deliveries at once make one run: plans wait for each other (advisory lock), and a run
    that another process is executing is left to it."""
    as_of = as_of or timezone.localdate(now)
    try:
        for unfinished in runs_unfinished().order_by("pk"):
            run_execute(run=unfinished, now=now)
        with transaction.atomic():
            with connection.cursor() as cursor:  # released when the plan commits
                cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [RUN_LOCK_NAMESPACE])
            live = RescoringRun.objects.filter(status__in=LIVE_RUN_STATUSES)
            if live.filter(dry_run=False, as_of=as_of).exists():
                return None
            run = run_plan(as_of=as_of, now=now)
        return run_execute(run=run, now=now)
    except RunBusy:
        logger.info("a rescoring run is being executed elsewhere")
        return None
