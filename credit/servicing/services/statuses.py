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

from core.events import EventType
from core.reasons import ReasonCode, reason_texts
from credit.models import LimitChangeKind
from credit.servicing.services.audit import accounts_update
from credit.servicing.services.context import CloseContext

# A restoration's cap: a share of the pre-incident limit, at least what is owed.
_INITIAL_CAP = "GREATEST(ROUND(a.pre_incident_limit * %(ratio)s, 2), a.outstanding_principal)"
_SORTED_WITH_OVERDUE = (
    "ARRAY(SELECT DISTINCT r FROM unnest(array_append(a.freeze_reasons,"
    " 'OVERDUE'::varchar)) AS r ORDER BY r)"
)


def _status_event(ctx: CloseContext, event: str, codes: list[str]):
    def build(row):
        key = f"{ctx.note}:{event}:{row['id']}"
        return event, ctx.status_context(row, codes), key

    return build


def _limit_event(ctx: CloseContext, codes: list[str]):
    """LIMIT_RAISED / LIMIT_CUT as credit.services.limits.limit_change_record sends them."""

    def build(row):
        if row["limit_change_id"] is None or row["old_effective"] == row["new_effective"]:
            return None
        raised = row["new_effective"] > row["old_effective"]
        context = {
            "old_limit": str(row["old_effective"]),
            "new_limit": str(row["new_effective"]),
            "available": str(row["available"]),
            "reason_codes": list(codes),
            "reasons": [str(text) for text in reason_texts(codes)],
            "limit_change_id": row["limit_change_id"],
        }
        event = EventType.LIMIT_RAISED if raised else EventType.LIMIT_CUT
        return event, context, f"limit-change:{row['limit_change_id']}"

    return build


def overdue_freeze(ctx: CloseContext) -> None:
    """Step 3a: accounts with an installment at least the threshold past due are FROZEN."""
    codes = [ReasonCode.OVERDUE]
    with ctx.step("freezes") as step:
        frozen = accounts_update(
            ctx,
            old_from="""credit_creditaccount a JOIN _svc_delinquency c ON c.account_id = a.id
                        WHERE c.dpd >= %(threshold)s
                          AND a.status IN ('ACTIVE', 'NEGATIVE', 'RESTORED')""",
            sets=f"""status = 'FROZEN', freeze_reasons = {_SORTED_WITH_OVERDUE},
                     pre_incident_limit = COALESCE(a.pre_incident_limit, a.base_limit),
                     status_changed_at = %(at)s, status_reason_codes = %(codes)s::varchar[]""",
            transition="freeze",
            status_codes=codes,
            params={"threshold": ctx.freeze_days, "codes": codes},
        )
        step.rows = len(frozen)
        step.events = ctx.publish_each(frozen, _status_event(ctx, EventType.ACCOUNT_FROZEN, codes))
        # Already frozen for another reason: OVERDUE joins the reasons (no transition).
        step.extra["reason_added"] = ctx.execute(
            f"""
            UPDATE credit_creditaccount a SET freeze_reasons = {_SORTED_WITH_OVERDUE}
              FROM _svc_delinquency c
             WHERE c.account_id = a.id AND c.dpd >= %(threshold)s AND a.status = 'FROZEN'
               AND NOT ('OVERDUE' = ANY(a.freeze_reasons))
            """,  # noqa: S608 - constant SQL fragments, values are parameters
            ctx.params(threshold=ctx.freeze_days),
        )


def overdue_cure(ctx: CloseContext) -> None:
    """Step 3b: nothing overdue any more → the OVERDUE freeze reason goes.

    Frozen only for OVERDUE: unfrozen → RESTORED with the probation cap, or NEGATIVE when
    the customer owes more than the limit. Other reasons remain: just drop OVERDUE.
    """
    codes = [ReasonCode.OVERDUE_CURED]
    not_overdue = "NOT EXISTS (SELECT 1 FROM _svc_delinquency c WHERE c.account_id = a.id)"
    restored = "a.base_limit + a.temporary_limit - a.outstanding_principal >= 0"
    with ctx.step("unfreezes") as step:
        unfrozen = accounts_update(
            ctx,
            old_from=f"""credit_creditaccount a
                         WHERE a.status = 'FROZEN' AND a.freeze_reasons = ARRAY['OVERDUE']::varchar[]
                           AND {not_overdue}""",
            sets=f"""status = CASE WHEN {restored} THEN 'RESTORED' ELSE 'NEGATIVE' END,
                     freeze_reasons = '{{}}',
                     probation_limit_cap = CASE WHEN {restored} AND a.pre_incident_limit IS NOT NULL
                                                THEN {_INITIAL_CAP} END,
                     restored_at = CASE WHEN {restored} THEN %(at)s ELSE a.restored_at END,
                     status_changed_at = %(at)s, status_reason_codes = %(codes)s::varchar[]""",
            transition="unfreeze",
            status_codes=codes,
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.OVERDUE_CURED, ReasonCode.PROBATION_CAP],
            params={"ratio": ctx.cap_ratio, "codes": codes},
        )
        step.rows = len(unfrozen)
        step.events = ctx.publish_each(
            unfrozen, _status_event(ctx, EventType.ACCOUNT_UNFROZEN, codes)
        )
        step.events += ctx.publish_each(
            [row for row in unfrozen if row["state"] == "NEGATIVE"],
            _status_event(ctx, EventType.ACCOUNT_NEGATIVE, codes),
        )
        step.extra["reason_dropped"] = ctx.execute(
            f"""
            UPDATE credit_creditaccount a
               SET freeze_reasons = array_remove(a.freeze_reasons, 'OVERDUE'::varchar)
             WHERE a.status = 'FROZEN' AND 'OVERDUE' = ANY(a.freeze_reasons)
               AND cardinality(a.freeze_reasons) > 1 AND {not_overdue}
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )


# Clean days of a RESTORED account as of D (joined with its delinquency row `s`).
_CLEAN_DAYS = """(%(d)s - GREATEST(
    (COALESCE(a.restored_at, a.status_changed_at, %(at)s) AT TIME ZONE %(zone)s)::date,
    COALESCE(s.last_overdue_date + 1, '-infinity'::date)))"""
_RESTORED = """credit_creditaccount a
    LEFT JOIN servicing_accountdelinquency s ON s.account_id = a.id
    WHERE a.status = 'RESTORED'"""


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
            transition="",
            status_codes=[],
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.PROBATION_CAP],
            params={"ratio": ctx.cap_ratio},
        )
        graduated = accounts_update(
            ctx,
            old_from=f"{_RESTORED} AND {_CLEAN_DAYS} >= %(probation_days)s",
            sets="""status = 'ACTIVE', pre_incident_limit = NULL, probation_limit_cap = NULL,
                    restored_at = NULL, status_changed_at = %(at)s,
                    status_reason_codes = %(codes)s::varchar[]""",
            transition="graduate",
            status_codes=[ReasonCode.PROBATION_COMPLETE],
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.PROBATION_COMPLETE],
            params={
                **zone,
                "probation_days": ctx.probation_days,
                "codes": [ReasonCode.PROBATION_COMPLETE],
            },
        )
        full = accounts_update(
            ctx,
            old_from=f"""{_RESTORED} AND a.probation_limit_cap < a.pre_incident_limit
                         AND {_CLEAN_DAYS} >= %(full_days)s""",
            sets="probation_limit_cap = GREATEST(a.pre_incident_limit, a.probation_limit_cap)",
            transition="",
            status_codes=[],
            limit_kind=LimitChangeKind.PROBATION_STEP,
            limit_codes=[ReasonCode.PROBATION_STEP],
            params={**zone, "full_days": ctx.full_limit_days},
        )
        step.rows = len(capped) + len(graduated) + len(full)
        step.extra |= {"capped": len(capped), "graduated": len(graduated), "full": len(full)}
        step.events = ctx.publish_each(capped, _limit_event(ctx, [ReasonCode.PROBATION_CAP]))
        step.events += ctx.publish_each(
            graduated, _limit_event(ctx, [ReasonCode.PROBATION_COMPLETE])
        )
        step.events += ctx.publish_each(full, _limit_event(ctx, [ReasonCode.PROBATION_STEP]))
