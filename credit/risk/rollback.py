"""Rolling back a run: every change it made, reverted exactly, or reported as skipped.

`run_rollback(run=…, actor=…, now=…)` (a risk manager; APPLIED runs, or FAILED ones that
applied some chunks):

- for every account the run changed (its LimitChange rows carrying the run id: rescoring
  and regional cuts and raises, confirmed announcements, campaign grants):
  - when the account's limit changed again after the run (a later LimitChange exists,
    whoever made it), the account is skipped and reported (the later change's id and kind):
    reverting would undo a decision taken since;
  - else its base limit returns to exactly what it was before the run, the campaign grants
    the run created are revoked, and one LimitChange of kind ROLLBACK (reason ROLLBACK,
    the run's id, the manager as actor) records it. The customer hears LIMIT_RAISED or
    LIMIT_CUT with the reason "a change made in error was reverted".
  Accounts whose status can stay as it is are reverted set-based; a reverted raise the
  customer already used (NEGATIVE) goes through the account services, which run the FSM
  transition and notify. Every cut the run made is reversed as our error
  (`credit.services.decision_reverse`, one account at a time): the limit back, the status
  the account would have without the cut (ACTIVE, not RESTORED; no probation), penalties
  posted since waived, the cut left out of the next run's features, and the customer told
  (DECISION_REVERSED) — the run's cut and its reversal stay on record, linked.
- announcements (pending decreases) the run made that are still pending are cancelled.

The report (counts, and every skipped account with the reason) is stored on the run.
"""

from datetime import datetime

from django.db import connection, transaction

from accounts.models import User
from core.events import Notice, publish_many
from core.permissions import permission_require
from core.reasons import ReasonCode
from credit.formulas import available_sql, effective_limit_sql, status_agrees_sql
from credit.models import (
    GrantStatus,
    LimitChange,
    LimitChangeKind,
    ReversalSource,
    ReversedDecision,
    TemporaryLimitGrant,
)
from credit.risk import bulk
from credit.risk.errors import RunNotInState
from credit.risk.features import jit_off
from credit.risk.models import PendingLimitDecrease, PendingStatus, RescoringRun, RunStatus
from credit.risk.runs import _log
from credit.services import (
    WrongDecision,
    account_lock,
    account_status_settle,
    decision_reverse,
    limit_change_record,
)

ROLLBACK_PERMISSION = "risk.rollback_rescoringrun"

# Per account the run touched: the base before its first change, the grants to revoke, and
# the first later change by anyone else (which makes the account skipped). A staff cut the
# run only confirmed (ANNOUNCED_CUT) was the staff's decision, not the run's: it stays.
_PLAN = """
CREATE TEMP TABLE risk_rollback_plan ON COMMIT DROP AS
WITH run_changes AS (
    SELECT c.account_id, min(c.id) AS first_id, max(c.id) AS last_id
      FROM credit_limitchange c
     WHERE c.run_id = %(run_id)s AND c.kind NOT IN ('ROLLBACK', 'ANNOUNCED_CUT')
     GROUP BY c.account_id
)
SELECT r.account_id, r.first_id, r.last_id,
       (SELECT c.old_base_limit FROM credit_limitchange c WHERE c.id = r.first_id) AS old_base,
       (SELECT c.new_base_limit FROM credit_limitchange c WHERE c.id = r.last_id) AS run_base,
       COALESCE((SELECT sum(g.amount) FROM risk_rungrant rg
                   JOIN credit_temporarylimitgrant g ON g.id = rg.grant_id
                  WHERE rg.run_id = %(run_id)s AND rg.account_id = r.account_id
                    AND g.status = 'ACTIVE'), 0) AS grant_amount,
       later.id AS later_id, later.kind AS later_kind
  FROM run_changes r
  LEFT JOIN LATERAL (
        SELECT c.id, c.kind FROM credit_limitchange c
         WHERE c.account_id = r.account_id AND c.id > r.last_id
         ORDER BY c.id LIMIT 1
  ) later ON TRUE
"""

_NEW_EFFECTIVE = effective_limit_sql(
    "a", base="p.old_base", temporary="(a.temporary_limit - p.grant_amount)"
)
# A cut the run made (and nothing else): reversed as our error, account by account.
_CUT = "(p.old_base > p.run_base AND p.grant_amount = 0)"
# The accounts whose status needs no transition after the revert.
_SET_BASED = f"""
    p.later_id IS NULL AND a.base_limit = p.run_base AND NOT {_CUT}
    AND {status_agrees_sql("a", available_sql("a", _NEW_EFFECTIVE))}
"""


@transaction.atomic
def run_rollback(*, run: RescoringRun, actor: User, now: datetime, note: str = "") -> dict:
    permission_require(actor, ROLLBACK_PERMISSION)
    run = RescoringRun.objects.select_for_update().get(pk=run.pk)
    applied_any = run.chunks.filter(applied_at__isnull=False).exists()
    if run.dry_run or not (
        run.status == RunStatus.APPLIED or (run.status == RunStatus.FAILED and applied_any)
    ):
        raise RunNotInState()
    note = note or f"rollback of rescoring run {run.pk}"
    with connection.cursor() as cursor:
        jit_off(cursor)
        # Dropped at commit; two rollbacks inside one outer transaction must not collide.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.risk_rollback_plan")
        cursor.execute(_PLAN, {"run_id": run.pk})
        cursor.execute(
            "SELECT account_id, later_id, later_kind FROM risk_rollback_plan "
            "WHERE later_id IS NOT NULL ORDER BY account_id"
        )
        skipped = [
            {
                "account_id": a,
                "later_limit_change_id": c,
                "later_kind": k,
                "reason": "changed since",
            }
            for a, c, k in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT p.account_id FROM risk_rollback_plan p "
            "JOIN credit_creditaccount a ON a.id = p.account_id "
            "WHERE p.later_id IS NULL AND a.base_limit <> p.run_base ORDER BY p.account_id"
        )
        skipped += [
            {
                "account_id": a,
                "later_limit_change_id": None,
                "later_kind": None,
                "reason": "limit differs from the run's without a later change",
            }
            for (a,) in cursor.fetchall()
        ]
    reverted = _revert_set_based(run=run, actor=actor, now=now, note=note)
    reverted_ids = {row.account_id for row in reverted}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.account_id, p.old_base, {_CUT}, p.first_id, p.last_id"  # noqa: S608
            " FROM risk_rollback_plan p JOIN credit_creditaccount a ON a.id = p.account_id"
            " WHERE p.later_id IS NULL AND a.base_limit = p.run_base ORDER BY p.account_id"
        )
        remaining = [row for row in cursor.fetchall() if row[0] not in reverted_ids]
    reversed_cuts = 0
    # The run's own LimitChange rows of every cut, in one query; the customers' notices of
    # the reversals are published in one batch at the end (same transaction).
    cut_changes = LimitChange.objects.in_bulk(
        [pk for _a, _o, was_cut, *ids in remaining if was_cut for pk in ids]
    )
    notices: list[Notice] = []
    for account_id, old_base, was_cut, first_id, last_id in remaining:
        if was_cut:
            _reverse_cut(
                run=run,
                account_id=account_id,
                old_base=old_base,
                first=cut_changes[first_id],
                last=cut_changes[last_id],
                actor=actor,
                now=now,
                note=note,
                notices=notices,
            )
            reversed_cuts += 1
        else:
            _revert_one(
                run=run, account_id=account_id, old_base=old_base, actor=actor, now=now, note=note
            )
    publish_many(notices, now=now)
    pending_cancelled = PendingLimitDecrease.objects.filter(
        run=run, status=PendingStatus.PENDING
    ).update(
        status=PendingStatus.CANCELLED,
        decided_at=now,
        decided_by=actor,
        decision_note=_log(f"run {run.pk} rolled back", note),
    )
    report = {
        "reverted": len(reverted) + len(remaining),
        "reverted_with_status_change": len(remaining) - reversed_cuts,
        "cuts_reversed_as_our_error": reversed_cuts,
        "skipped_count": len(skipped),
        "skipped": skipped,
        "pending_cancelled": pending_cancelled,
        "at": now.isoformat(),
        "by": actor.pk,
    }
    run.rollback_report = report
    run.roll_back(at=now, by=actor, description=_log("ROLLBACK", note))
    run.save()
    return report


def _revert_set_based(*, run: RescoringRun, actor: User, now: datetime, note: str):
    """One UPDATE for base and temporary limits, one INSERT of ROLLBACK LimitChanges."""
    old_effective = effective_limit_sql("u", "u.run_base", "(u.temporary_limit + u.grant_amount)")
    sql = f"""
    WITH grants AS (
        UPDATE credit_temporarylimitgrant g SET status = 'REVOKED', ended_at = %(now)s
          FROM risk_rungrant rg, risk_rollback_plan p, credit_creditaccount a
         WHERE rg.run_id = %(run_id)s AND g.id = rg.grant_id AND g.status = 'ACTIVE'
           AND p.account_id = rg.account_id AND a.id = p.account_id AND {_SET_BASED}
    ), upd AS (
        UPDATE credit_creditaccount a
           SET base_limit = p.old_base, temporary_limit = a.temporary_limit - p.grant_amount
          FROM risk_rollback_plan p
         WHERE a.id = p.account_id AND {_SET_BASED}
        RETURNING a.id, a.customer_id, p.run_base, a.base_limit, a.temporary_limit,
                  a.probation_limit_cap, a.outstanding_principal, p.grant_amount
    ), ins AS (
        INSERT INTO credit_limitchange (account_id, kind, old_base_limit, new_base_limit,
                                        old_effective_limit, new_effective_limit, reason_codes,
                                        actor_id, run_id, note, created_at)
        SELECT u.id, 'ROLLBACK', u.run_base, u.base_limit, {old_effective},
               {effective_limit_sql("u")}, ARRAY['ROLLBACK'], %(actor_id)s, %(run_id)s,
               %(note)s, %(now)s
          FROM upd u ORDER BY u.id
        RETURNING id, account_id, old_effective_limit, new_effective_limit, reason_codes
    )
    SELECT ins.id, ins.account_id, u.customer_id, ins.old_effective_limit,
           ins.new_effective_limit, {available_sql("u", "ins.new_effective_limit")},
           ins.reason_codes
      FROM ins JOIN upd u ON u.id = ins.account_id ORDER BY ins.id
    """  # noqa: S608 - SQL built from code constants; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"run_id": run.pk, "now": now, "actor_id": actor.pk, "note": note})
        rows = [bulk.ChangedLimit(*row) for row in cursor.fetchall()]
    bulk.publish_limit_changes(rows, now=now)
    return rows


def _revert_one(*, run, account_id, old_base, actor, now, note) -> None:
    """An account whose status moves with the revert: through the account services."""
    account = account_lock(account_id)
    old_base_now, old_effective = account.base_limit, account.effective_limit
    grants = list(
        TemporaryLimitGrant.objects.select_for_update().filter(
            pk__in=run.grants.filter(account_id=account_id).values("grant_id"),
            status=GrantStatus.ACTIVE,
        )
    )
    for grant in grants:
        account.temporary_limit -= grant.amount
        grant.status, grant.ended_at = GrantStatus.REVOKED, now
        grant.save(update_fields=["status", "ended_at"])
    account.base_limit = old_base
    codes = [ReasonCode.ROLLBACK]
    account_status_settle(
        account=account, now=now, by=actor, reason_codes=codes, note=note, run_id=run.pk
    )
    account.save()
    limit_change_record(
        account=account,
        kind=LimitChangeKind.ROLLBACK,
        old_base=old_base_now,
        old_effective=old_effective,
        reason_codes=codes,
        now=now,
        actor=actor,
        run_id=run.pk,
        note=note,
    )


def _reverse_cut(*, run, account_id, old_base, first, last, actor, now, note, notices) -> None:
    """A cut the run made: reversed as our error (credit.services.decision_reverse) — the
    limit back, the status it would have without the cut (ACTIVE, no probation), penalties
    since the cut waived, the customer told; the run's cut stays on record, linked."""
    decision_reverse(
        account=account_id,
        wrong=WrongDecision(
            ReversedDecision.LIMIT_CUT,
            at=first.created_at,
            record=last,
            limit_before=old_base,
        ),
        source=ReversalSource.RUN_ROLLBACK,
        reason=note,
        actor=actor,
        now=now,
        source_ref=f"risk.rescoringrun:{run.pk}",
        limit_kind=LimitChangeKind.ROLLBACK,
        run_id=run.pk,
        notices=notices,
    )
