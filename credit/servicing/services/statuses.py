"""Close steps 3 and 5: overdue freezes and their cure, then probation and graduation.

Probation. An account restored from FROZEN or NEGATIVE may use at most
`SERVICING_PROBATION_CAP_RATIO` (50 %) of the limit it had before the incident
(`pre_incident_limit`) — but never less than it already owes, so the cap alone never sends
an account NEGATIVE (that status means owing more than the limit itself). After
`SERVICING_PROBATION_FULL_LIMIT_DAYS` (30) clean days the whole pre-incident limit is back;
after `SERVICING_PROBATION_DAYS` (90) clean days the account graduates to ACTIVE. Clean days
count from the later of the restoration and the day after anything was last overdue, so a
late payment during probation restarts the count.
"""

from core.reasons import ReasonCode
from credit.models import AccountStatus, FreezeReason, LimitChangeKind
from credit.services.notices import limit_notice
from credit.servicing.services.audit import accounts_update
from credit.servicing.services.context import CloseContext
from credit.transitions import (
    FREEZE,
    GO_NEGATIVE,
    GRADUATE,
    UNFREEZE,
    sql_freeze_reason,
    sql_status_in,
)

# A restoration's cap: a share of the pre-incident limit, at least what is owed.
_INITIAL_CAP = "GREATEST(ROUND(a.pre_incident_limit * %(ratio)s, 2), a.outstanding_principal)"
_FROZEN = sql_status_in("a", [AccountStatus.FROZEN])
_OVERDUE = sql_freeze_reason(FreezeReason.OVERDUE)


def _status_event(ctx: CloseContext, event: str, codes: list[str]):
    def build(row):
        key = f"{ctx.note}:{event}:{row['id']}"
        return event, ctx.status_context(row, codes), key

    return build


def _limit_event(codes: list[str]):
    """LIMIT_RAISED / LIMIT_CUT as credit.services.limits.limit_change_record sends them."""

    def build(row):
        if row["limit_change_id"] is None:
            return None
        return limit_notice(
            old_limit=row["old_effective"],
            new_limit=row["new_effective"],
            available=row["available"],
            reason_codes=codes,
            limit_change_id=row["limit_change_id"],
        )

    return build


def overdue_freeze(ctx: CloseContext) -> None:
    """Step 3a: accounts with an installment at least the threshold past due are FROZEN."""
    codes = [ReasonCode.OVERDUE]
    with ctx.step("freezes") as step:
        frozen = accounts_update(
            ctx,
            old_from=f"""credit_creditaccount a JOIN _svc_delinquency c ON c.account_id = a.id
                         WHERE c.dpd >= %(threshold)s AND {FREEZE.sql_source_filter("a")}""",
            sets=FREEZE.sql_set(),
            transition=FREEZE,
            status_codes=codes,
            params={"threshold": ctx.freeze_days, "freeze_reason": FreezeReason.OVERDUE},
        )
        step.rows = len(frozen)
        step.events = ctx.publish_each(frozen, _status_event(ctx, FREEZE.event, codes))
        # Already frozen for another reason: OVERDUE joins the reasons (no transition).
        step.extra["reason_added"] = ctx.execute(
            f"""
            UPDATE credit_creditaccount a
               SET freeze_reasons = {FREEZE.sql_values()["freeze_reasons"]}
              FROM _svc_delinquency c
             WHERE c.account_id = a.id AND c.dpd >= %(threshold)s AND {_FROZEN}
               AND NOT ({_OVERDUE} = ANY(a.freeze_reasons))
            """,  # noqa: S608 - constant SQL fragments, values are parameters
            ctx.params(threshold=ctx.freeze_days, freeze_reason=FreezeReason.OVERDUE),
        )


def overdue_cure(ctx: CloseContext) -> None:
    """Step 3b: nothing overdue any more → the OVERDUE freeze reason goes.

    Frozen only for OVERDUE: unfrozen → RESTORED with the probation cap, or NEGATIVE when
    the customer owes more than the limit. Other reasons remain: just drop OVERDUE.
    """
    codes = [ReasonCode.OVERDUE_CURED]
    not_overdue = "NOT EXISTS (SELECT 1 FROM _svc_delinquency c WHERE c.account_id = a.id)"
    # The available credit after the unfreeze: the new probation cap is at least what is
    # owed, so only base + temporary limit can leave it below zero.
    available = "(a.base_limit + a.temporary_limit - a.outstanding_principal)"
    with ctx.step("unfreezes") as step:
        unfrozen = accounts_update(
            ctx,
            old_from=f"""credit_creditaccount a
                         WHERE {UNFREEZE.sql_source_filter("a")}
                           AND a.freeze_reasons = ARRAY[{_OVERDUE}] AND {not_overdue}""",
            sets=f"""{UNFREEZE.sql_set(available=available)},
                     probation_limit_cap = CASE WHEN {available} >= 0
                                                 AND a.pre_incident_limit IS NOT NULL
                                                THEN {_INITIAL_CAP} END""",
            transition=UNFREEZE,
            status_codes=codes,
            limit_kind=UNFREEZE.limit_kind,
            limit_codes=[ReasonCode.OVERDUE_CURED, ReasonCode.PROBATION_CAP],
            params={"ratio": ctx.cap_ratio},
        )
        step.rows = len(unfrozen)
        step.events = ctx.publish_each(unfrozen, _status_event(ctx, UNFREEZE.event, codes))
        step.events += ctx.publish_each(
            [row for row in unfrozen if row["state"] == UNFREEZE.target_when_short],
            _status_event(ctx, GO_NEGATIVE.event, codes),
        )
        step.extra["reason_dropped"] = ctx.execute(
            f"""
            UPDATE credit_creditaccount a
               SET freeze_reasons = array_remove(a.freeze_reasons, {_OVERDUE})
             WHERE {_FROZEN} AND {_OVERDUE} = ANY(a.freeze_reasons)
               AND cardinality(a.freeze_reasons) > 1 AND {not_overdue}
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )


# Clean days of a RESTORED account as of D (joined with its delinquency row `s`).
_CLEAN_DAYS = """(%(d)s - GREATEST(
    (COALESCE(a.restored_at, a.status_changed_at, %(at)s) AT TIME ZONE %(zone)s)::date,
    COALESCE(s.last_overdue_date + 1, '-infinity'::date)))"""
# Accounts on probation: those graduation takes.
_RESTORED = f"""credit_creditaccount a
    LEFT JOIN servicing_accountdelinquency s ON s.account_id = a.id
    WHERE {GRADUATE.sql_source_filter("a")}"""


def probation_step(ctx: CloseContext) -> None:
    """Step 5: cap newly restored accounts, give the whole limit back, graduate."""
    zone = {"zone": str(ctx.cutoff.tzinfo)}
    with ctx.step("probation") as step:
        # Restored since the last close by a repayment or a staff unfreeze: start probation.
        capped = accounts_update(
            ctx,
            old_from=f"""{_RESTORED} AND a.probation_limit_cap IS NULL
                         AND a.pre_incident_limit IS NOT NULL""",
            sets=f"probation_limit_cap = {_INITIAL_CAP}",
            transition=None,
            status_codes=[],
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.PROBATION_CAP],
            params={"ratio": ctx.cap_ratio},
        )
        graduated = accounts_update(
            ctx,
            old_from=f"{_RESTORED} AND {_CLEAN_DAYS} >= %(probation_days)s",
            sets=GRADUATE.sql_set(),
            transition=GRADUATE,
            status_codes=list(GRADUATE.reasons),
            limit_kind=GRADUATE.limit_kind,
            limit_codes=list(GRADUATE.reasons),
            params={**zone, "probation_days": ctx.probation_days},
        )
        full = accounts_update(
            ctx,
            old_from=f"""{_RESTORED} AND a.probation_limit_cap < a.pre_incident_limit
                         AND {_CLEAN_DAYS} >= %(full_days)s""",
            sets="probation_limit_cap = GREATEST(a.pre_incident_limit, a.probation_limit_cap)",
            transition=None,
            status_codes=[],
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.PROBATION_STEP],
            params={**zone, "full_days": ctx.full_limit_days},
        )
        step.rows = len(capped) + len(graduated) + len(full)
        step.extra |= {"capped": len(capped), "graduated": len(graduated), "full": len(full)}
        step.events = ctx.publish_each(capped, _limit_event([ReasonCode.PROBATION_CAP]))
        step.events += ctx.publish_each(graduated, _limit_event(list(GRADUATE.reasons)))
        step.events += ctx.publish_each(full, _limit_event([ReasonCode.PROBATION_STEP]))
