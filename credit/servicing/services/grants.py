"""Close step 4: temporary limit grants end and start; a notice before one ends.

A grant is due when its instant has passed by the midnight opening D: an ACTIVE grant that
ended expires, a SCHEDULED one that started applies (one whose whole window already passed,
say during downtime, lapses without ever applying). Per account the net change goes in one
UPDATE that also moves the status the CHECK constraint demands: ACTIVE / RESTORED → NEGATIVE
when available drops below zero, NEGATIVE → RESTORED when it comes back to zero or more.
"""

from datetime import timedelta

from core.events import EventType
from core.reasons import ReasonCode
from credit.formulas import available_sql, effective_limit_sql, sql_literal
from credit.models import AccountStatus, LimitChangeKind
from credit.servicing.services.context import CloseContext
from credit.transitions import (
    GO_NEGATIVE,
    RECOVER,
    sql_by_target,
    sql_set_branches,
    sql_status_in,
    state_log_sql,
)

_APPLY = """
WITH per AS (
    SELECT account_id,
           COALESCE(sum(amount) FILTER (WHERE action = 'EXPIRE'), 0) AS expired,
           COALESCE(sum(amount) FILTER (WHERE action = 'START'), 0) AS started
      FROM _svc_grants WHERE action IN ('EXPIRE', 'START') GROUP BY account_id
), old AS (
    SELECT a.id, a.status, a.base_limit, {effective} AS effective_limit, per.expired, per.started,
           {mid} AS mid_effective, {new_available} AS new_available
      FROM credit_creditaccount a JOIN per ON per.account_id = a.id
), moved AS (
    UPDATE credit_creditaccount a SET
        temporary_limit = a.temporary_limit - old.expired + old.started,
        {statuses}
      FROM old WHERE a.id = old.id
    RETURNING a.id, a.customer_id, old.status AS source_state, a.status AS state,
              a.base_limit AS base, old.effective_limit AS old_effective, old.mid_effective,
              {effective} AS new_effective, {available} AS available, old.expired, old.started
), logged AS ({logged}
), limited AS (
    INSERT INTO credit_limitchange
        (account_id, kind, old_base_limit, new_base_limit, old_effective_limit,
         new_effective_limit, reason_codes, actor_id, run_id, note, created_at)
    SELECT x.id, x.kind, x.base, x.base, x.old_effective, x.new_effective, x.codes,
           NULL, NULL, %(note)s, %(now)s
      FROM (
        SELECT m.id, 1 AS step, %(expiry)s AS kind, m.base, m.old_effective,
               m.mid_effective AS new_effective, %(negative_codes)s::varchar[] AS codes
          FROM moved m WHERE m.expired > 0
        UNION ALL
        SELECT m.id, 2, %(grant)s, m.base, m.mid_effective, m.new_effective,
               %(grant_codes)s::varchar[]
          FROM moved m WHERE m.started > 0
      ) x
     ORDER BY x.id, x.step
)
SELECT m.* FROM moved m ORDER BY m.id
""".format(  # noqa: S608 - constant SQL fragments, values are parameters
    statuses=sql_set_branches(
        [
            (
                f"{GO_NEGATIVE.sql_source_filter('a')} AND old.new_available < 0",
                GO_NEGATIVE,
                "%(negative_codes)s::varchar[]",
            ),
            (
                f"{RECOVER.sql_source_filter('a')} AND old.new_available >= 0",
                RECOVER,
                "%(restored_codes)s::varchar[]",
            ),
        ]
    ),
    logged=state_log_sql(
        "moved m",
        transition=sql_by_target(
            "m.state",
            {GO_NEGATIVE: sql_literal(GO_NEGATIVE.name), RECOVER: sql_literal(RECOVER.name)},
        ),
        description=sql_by_target(
            "m.state",
            {GO_NEGATIVE: "%(negative_description)s", RECOVER: "%(restored_description)s"},
        ),
    ),
    effective=effective_limit_sql("a"),
    available=available_sql("a"),
    mid=effective_limit_sql("a", temporary="(a.temporary_limit - per.expired)"),
    new_available=available_sql(
        "a", effective_limit_sql("a", temporary="(a.temporary_limit - per.expired + per.started)")
    ),
)


def grants_expire_and_start(ctx: CloseContext) -> None:
    negative_codes = [ReasonCode.TEMPORARY_EXPIRY]
    restored_codes = [ReasonCode.TEMPORARY_GRANT]
    with ctx.step("grants") as step:
        ctx.execute("DROP TABLE IF EXISTS _svc_grants")
        ctx.execute(
            """
            CREATE TEMP TABLE _svc_grants AS
            SELECT g.id, g.account_id, g.amount, g.campaign, g.ends_at,
                   CASE WHEN g.status = 'ACTIVE' THEN 'EXPIRE'
                        WHEN g.ends_at <= %(cutoff)s THEN 'LAPSE'
                        ELSE 'START' END AS action
              FROM credit_temporarylimitgrant g
             WHERE (g.status = 'ACTIVE' AND g.ends_at <= %(cutoff)s)
                OR (g.status = 'SCHEDULED' AND g.starts_at <= %(cutoff)s)
            """
        )
        grants = ctx.fetch("SELECT * FROM _svc_grants ORDER BY id")
        if not grants:
            return
        ctx.execute(
            """
            UPDATE credit_temporarylimitgrant g
               SET status = CASE WHEN s.action = 'START' THEN 'ACTIVE' ELSE 'EXPIRED' END,
                   ended_at = CASE WHEN s.action = 'START' THEN g.ended_at ELSE %(at)s END
              FROM _svc_grants s WHERE g.id = s.id
            """
        )
        moved = {
            row["id"]: row
            for row in ctx.fetch(
                _APPLY,
                ctx.params(
                    negative_codes=negative_codes,
                    restored_codes=restored_codes,
                    grant_codes=[ReasonCode.TEMPORARY_GRANT],
                    negative_description=ctx.description(negative_codes),
                    restored_description=ctx.description(restored_codes),
                    expiry=LimitChangeKind.TEMPORARY_EXPIRY,
                    grant=LimitChangeKind.TEMPORARY_GRANT,
                    by=None,
                ),
            )
        }
        step.rows = len(grants)
        step.extra |= {
            action.lower(): sum(1 for g in grants if g["action"] == action)
            for action in ("EXPIRE", "START", "LAPSE")
        }
        step.extra["negative"] = sum(1 for r in moved.values() if r["state"] == GO_NEGATIVE.target)
        step.extra["restored"] = sum(
            1 for r in moved.values() if r["state"] == RECOVER.target != r["source_state"]
        )

        def grant_notice(grant):
            account = moved[grant["account_id"]]
            if grant["action"] == "EXPIRE":
                context = {
                    "amount": str(grant["amount"]),
                    "effective_limit": str(account["new_effective"]),
                    "available": str(account["available"]),
                }
                return EventType.TEMPORARY_LIMIT_ENDED, context, f"grant:{grant['id']}:ended"
            context = {
                "amount": str(grant["amount"]),
                "ends_at": grant["ends_at"].isoformat(),
                "campaign": grant["campaign"],
                "effective_limit": str(account["new_effective"]),
            }
            return EventType.TEMPORARY_LIMIT_GRANTED, context, f"grant:{grant['id']}:granted"

        applied = [g for g in grants if g["account_id"] in moved and g["action"] != "LAPSE"]
        for grant in applied:
            grant["customer_id"] = moved[grant["account_id"]]["customer_id"]
        step.events = ctx.publish_each(applied, grant_notice)
        status_rows = [r for r in moved.values() if r["state"] != r["source_state"]]

        def status_notice(row):
            negative = row["state"] == GO_NEGATIVE.target
            event = GO_NEGATIVE.event if negative else RECOVER.event
            codes = negative_codes if negative else restored_codes
            return event, ctx.status_context(row, codes), f"{ctx.note}:{event}:{row['id']}"

        step.events += ctx.publish_each(status_rows, status_notice)


def grants_ending_notice(ctx: CloseContext) -> None:
    """Customers whose grant ends on D + 3 (local date) hear it now; not for one already over."""
    with ctx.step("grants_ending") as step:
        start = ctx.cutoff + timedelta(days=ctx.ending_notice_days)
        ending = ctx.fetch(
            f"""
            SELECT g.id, g.amount, g.ends_at, a.customer_id
              FROM credit_temporarylimitgrant g
              JOIN credit_creditaccount a ON a.id = g.account_id
             WHERE g.status = 'ACTIVE' AND g.ends_at >= %(start)s AND g.ends_at < %(end)s
               AND g.ends_at > %(now)s AND NOT {sql_status_in("a", [AccountStatus.CLOSED])}
             ORDER BY g.id
            """,  # noqa: S608 - constant SQL fragments, values are parameters
            ctx.params(start=start, end=start + timedelta(days=1)),
        )
        step.rows = len(ending)
        step.events = ctx.publish_each(
            ending,
            lambda g: (
                EventType.TEMPORARY_LIMIT_ENDING,
                {"amount": str(g["amount"]), "ends_at": g["ends_at"].isoformat()},
                f"grant:{g['id']}:ending",
            ),
        )
