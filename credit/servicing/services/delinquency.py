"""Close steps 1 and 2: installments past due, delinquency buckets with history, penalties."""

from decimal import Decimal

from credit.formulas import (
    fee_due_sql,
    installment_open_sql,
    installment_overdue_sql,
    principal_due_sql,
)
from credit.models import FreezeReason, JournalEntryKind, LedgerAccount
from credit.servicing.services.context import CloseContext, bucket_sql
from credit.transitions import GRADUATE, UNFREEZE, sql_freeze_reason

_OVERDUE = sql_freeze_reason(FreezeReason.OVERDUE)


def accounts_lock(ctx: CloseContext) -> None:
    """Lock, in id order, every account today's steps will touch, before touching anything.

    Online services lock the account row first and its installments or grants after; taking
    the account locks first here keeps that order, so a repayment at 00:30 waits for the
    close (or the close for it) instead of deadlocking with it.
    """
    with ctx.step("lock") as step:
        step.rows = ctx.fetch(
            f"""
            SELECT count(*) AS n FROM (
                SELECT a.id FROM credit_creditaccount a
                WHERE a.id IN (
                    SELECT i.account_id FROM credit_installment i
                    WHERE {installment_open_sql("i")} AND i.due_date < %(d)s
                    UNION
                    SELECT s.account_id FROM servicing_accountdelinquency s
                    WHERE s.days_past_due > 0
                    UNION
                    SELECT g.account_id FROM credit_temporarylimitgrant g
                    WHERE (g.status = 'ACTIVE' AND g.ends_at <= %(cutoff)s)
                       OR (g.status = 'SCHEDULED' AND g.starts_at <= %(cutoff)s)
                )
                OR {GRADUATE.sql_source_filter("a")}
                OR ({UNFREEZE.sql_source_filter("a")} AND {_OVERDUE} = ANY(a.freeze_reasons))
                ORDER BY a.id
                FOR UPDATE
            ) locked
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )[0]["n"]


# Step 2, the penalty of each open installment due before D, as of D. Day k past due (the
# date due_date + k) carries a penalty when k > the plan's fee schedule's grace_days; the
# close of D charges every such day after `penalty_accrued_through` up to D — one day on a
# normal night, several when an installment is first seen late — and the UPDATE sets
# `penalty_accrued_through` = D, so a day is never charged twice. A day's penalty is
# ROUND(overdue × penalty_daily_rate, 2) half-up (PostgreSQL rounds numeric half away from
# zero, the same for these positive amounts), overdue = principal + fee still due; the net
# penalty (accrued − waived) never exceeds ROUND(overdue × penalty_cap_ratio, 2).
_PENALTIES = f"""
CREATE TEMP TABLE _svc_penalty AS
SELECT x.id, x.account_id, LEAST(x.days * x.daily, GREATEST(x.cap - x.charged, 0)) AS amount
  FROM (
    SELECT i.id, i.account_id,
           %(d)s - GREATEST(COALESCE(i.penalty_accrued_through, i.due_date),
                            i.due_date + f.grace_days) AS days,
           ROUND(({principal_due_sql("i")} + {fee_due_sql("i")}) * f.penalty_daily_rate, 2) AS daily,
           ROUND(({principal_due_sql("i")} + {fee_due_sql("i")}) * f.penalty_cap_ratio, 2) AS cap,
           i.penalty - i.penalty_waived AS charged
      FROM credit_installment i
      JOIN credit_installmentplan p ON p.id = i.plan_id
      JOIN credit_feeschedule f ON f.id = p.fee_schedule_id
     WHERE {installment_open_sql("i")} AND i.due_date < %(d)s
       AND i.due_date + f.grace_days < %(d)s
       AND (i.penalty_accrued_through IS NULL OR i.penalty_accrued_through < %(d)s)
  ) x
"""  # noqa: S608 - constant SQL fragments, values are parameters


def installments_age(ctx: CloseContext) -> None:
    """Steps 1a and 2: open installments due before D are OVERDUE, D − due_date days past
    due, and carry the day's penalty — one UPDATE, so each installment is written once.

    The penalty (see `_PENALTIES`) is computed first into `_svc_penalty`, then the UPDATE
    ages every open installment due before D whose values change and adds its penalty; the
    PENALTY journal entries are posted from the same table. An OVERDUE installment whose due
    date moved to D or later (an extension, a withdrawn acceleration) is upcoming again.
    """
    with ctx.step("penalties") as step:
        ctx.execute("DROP TABLE IF EXISTS _svc_penalty")
        ctx.execute(_PENALTIES)
        ctx.execute("CREATE UNIQUE INDEX ON _svc_penalty (id)")
        ctx.execute("ANALYZE _svc_penalty")
        step.rows = ctx.fetch("SELECT count(*) AS n FROM _svc_penalty")[0]["n"]
    with ctx.step("overdue") as step:
        step.rows = ctx.execute(
            f"""
            UPDATE credit_installment i
               SET status = 'OVERDUE', days_past_due = %(d)s - i.due_date,
                   penalty = i.penalty + COALESCE(x.amount, 0),
                   penalty_accrued_through = CASE WHEN x.amount IS NULL
                                                  THEN i.penalty_accrued_through ELSE %(d)s END
              FROM (
                SELECT c.id, p.amount
                  FROM credit_installment c
                  LEFT JOIN _svc_penalty p ON p.id = c.id
                 WHERE {installment_open_sql("c")} AND c.due_date < %(d)s
                   AND (c.status = 'PENDING' OR c.days_past_due <> %(d)s - c.due_date
                        OR p.id IS NOT NULL)
              ) x
             WHERE i.id = x.id
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )
        step.extra["back_to_pending"] = ctx.execute(
            """
            UPDATE credit_installment SET status = 'PENDING', days_past_due = 0
             WHERE status = 'OVERDUE' AND due_date >= %(d)s
            """
        )
    with ctx.step("penalties") as step:
        penalties_post(ctx, step)


def delinquency_update(ctx: CloseContext) -> None:
    """Step 1b: each account's days past due, overdue amount and bucket; a history row when
    the bucket changes.

    Leaves `_svc_delinquency` (account_id, dpd, amount) for the steps after it: the accounts
    with something overdue as of D.
    """
    with ctx.step("delinquency") as step:
        ctx.execute("DROP TABLE IF EXISTS _svc_delinquency")
        ctx.execute(
            f"""
            CREATE TEMP TABLE _svc_delinquency AS
            SELECT i.account_id, max(i.days_past_due) AS dpd,
                   sum({principal_due_sql("i")} + {fee_due_sql("i")}) AS amount
              FROM credit_installment i
             WHERE {installment_overdue_sql("i")}
             GROUP BY i.account_id
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )
        ctx.execute("CREATE UNIQUE INDEX ON _svc_delinquency (account_id)")
        ctx.execute("ANALYZE _svc_delinquency")
        new_bucket = bucket_sql("COALESCE(c.dpd, 0)")
        step.extra["bucket_changes"] = ctx.execute(
            f"""
            INSERT INTO servicing_delinquencychange
                (account_id, business_date, old_bucket, new_bucket, days_past_due,
                 overdue_amount, created_at)
            SELECT COALESCE(c.account_id, s.account_id), %(d)s, COALESCE(s.bucket, 'CURRENT'),
                   {new_bucket}, COALESCE(c.dpd, 0), COALESCE(c.amount, 0), %(now)s
              FROM _svc_delinquency c
              FULL JOIN servicing_accountdelinquency s ON s.account_id = c.account_id
             WHERE COALESCE(s.bucket, 'CURRENT') <> {new_bucket}
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )
        step.rows = ctx.execute(
            f"""
            INSERT INTO servicing_accountdelinquency AS s
                (account_id, bucket, days_past_due, overdue_amount, bucket_since,
                 last_overdue_date, worst_days_past_due, updated_date)
            SELECT c.account_id, {bucket_sql("c.dpd")}, c.dpd, c.amount, %(d)s, %(d)s, c.dpd, %(d)s
              FROM _svc_delinquency c
            ON CONFLICT (account_id) DO UPDATE SET
                bucket = EXCLUDED.bucket,
                days_past_due = EXCLUDED.days_past_due,
                overdue_amount = EXCLUDED.overdue_amount,
                bucket_since = CASE WHEN s.bucket = EXCLUDED.bucket THEN s.bucket_since
                                    ELSE EXCLUDED.bucket_since END,
                last_overdue_date = EXCLUDED.last_overdue_date,
                worst_days_past_due = GREATEST(s.worst_days_past_due, EXCLUDED.days_past_due),
                updated_date = EXCLUDED.updated_date
            """  # noqa: S608 - constant SQL fragments, values are parameters
        )
        step.extra["cured"] = ctx.execute(
            """
            UPDATE servicing_accountdelinquency s
               SET bucket = 'CURRENT', days_past_due = 0, overdue_amount = 0,
                   bucket_since = %(d)s, updated_date = %(d)s
             WHERE s.days_past_due > 0
               AND NOT EXISTS (SELECT 1 FROM _svc_delinquency c WHERE c.account_id = s.account_id)
            """
        )


def penalties_post(ctx: CloseContext, step) -> None:
    """One balanced PENALTY entry per account (Dr RECEIVABLE_PENALTY, Cr PENALTY_INCOME), the
    lines of every entry in one INSERT (the balance trigger checks them per statement)."""
    posted = ctx.fetch(
        """
        WITH sums AS (
            SELECT account_id, sum(amount) AS amount FROM _svc_penalty
             GROUP BY account_id HAVING sum(amount) > 0
        ), entries AS (
            INSERT INTO credit_journalentry (kind, account_id, reference, memo, created_at)
            SELECT %(kind)s, s.account_id, %(reference)s, %(memo)s, %(now)s
              FROM sums s ORDER BY s.account_id
            RETURNING id, account_id
        ), lines AS (
            INSERT INTO credit_journalline (entry_id, ledger_account, account_id, debit, credit)
            SELECT e.id, l.ledger_account, e.account_id,
                   CASE WHEN l.is_debit THEN s.amount ELSE 0 END,
                   CASE WHEN l.is_debit THEN 0 ELSE s.amount END
              FROM entries e
              JOIN sums s ON s.account_id = e.account_id
             CROSS JOIN (VALUES (%(receivable)s, TRUE), (%(income)s, FALSE))
                   AS l(ledger_account, is_debit)
            RETURNING debit
        )
        SELECT count(*) AS lines, COALESCE(sum(debit), 0) AS amount FROM lines
        """,
        ctx.params(
            kind=JournalEntryKind.PENALTY,
            reference=f"penalty:{ctx.business_date.isoformat()}",
            memo=f"Penalty accrued through {ctx.business_date.isoformat()}",
            receivable=LedgerAccount.RECEIVABLE_PENALTY,
            income=LedgerAccount.PENALTY_INCOME,
        ),
    )[0]
    step.extra["journal_entries"] = posted["lines"] // 2
    step.extra["amount"] = str(Decimal(posted["amount"]))
