"""Account features, set-based: one SQL statement computes them for a range of account ids.

Features as of a date D (Asia/Shanghai), for every account not CLOSED:

    late_12m        installments due in the 12 months before D (not waived) that were unpaid
                    on their due date — paid after it, or still open
    ontime_12m      installments due in (D − 365, D] paid on or before their due date
    current_dpd     days past due now: D − the oldest due date still unpaid, else 0
    worst_dpd_12m   the worst days past due of an installment due in the 12 months (paid
                    late: paid date − due date; still open: D − due date), else 0
    utilisation_pct outstanding principal / effective limit, in whole percent (1000 when
                    something is owed on a zero limit)
    tenure_months   whole months from the opening date to D
    purchases       purchases up to D not fully refunded
    recent_flags    risk flags naming the account raised in the 90 days up to D, not cleared,
                    not still open with the customer's verification passed, and not a
                    freezing flag whose freeze of the account was since reversed as wrong
                    (credit.DecisionReversal)
    cuts_90d        base-limit cuts (rescoring, regional policy, staff) in the 90 days up to D,
                    except cuts reversed as wrong (a rolled-back run's, an upheld appeal's)
    days_since_cut  days since the last such cut within a year, else NULL

"Paid" reads each installment's `status`, `paid_at` and `due_date` directly (an installment
paid after D counts as unpaid on D, so a back-dated run sees what was known then); it does
not use `days_past_due`, which the servicing close maintains on its own schedule.

`FEATURES_SQL` is a list of CTEs ending in `feat`, run inside `features_session()` (local
dates); `credit.risk.decide` appends the score, the policy and the decision to it. Parameters: lo, hi (account id range), as_of (date),
year_ago (as_of − 365 days), day_end (start of the day after as_of, Shanghai time).
"""

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from credit.formulas import effective_limit_sql, installment_open_sql
from credit.risk.scorecard import FEATURES

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOCAL_TZ_NAME = "Asia/Shanghai"

# Local dates by a plain cast: the statement runs with TimeZone = Asia/Shanghai for its
# transaction (`features_session`); naming the zone in each expression (AT TIME ZONE) costs
# a zone lookup per installment, several times the whole aggregate.
_PAID_DATE = "i.paid_at::date"

FEATURES_SQL = f"""
acc AS (
    SELECT a.id, a.customer_id, a.status, a.base_limit, a.temporary_limit,
           a.probation_limit_cap, a.outstanding_principal,
           {effective_limit_sql("a")} AS effective_limit,
           a.opened_at::date AS opened_date,
           COALESCE(p.province_code, '') AS province_code
      FROM credit_creditaccount a
      LEFT JOIN accounts_customerprofile p ON p.user_id = a.customer_id
     WHERE a.id BETWEEN %(lo)s AND %(hi)s AND a.status <> 'CLOSED'
), inst AS (
    SELECT i.account_id,
           count(*) FILTER (WHERE x.paid_d <= i.due_date
                              AND i.due_date > %(year_ago)s::date
                              AND i.due_date <= %(as_of)s::date) AS ontime,
           count(*) FILTER (WHERE i.due_date > %(year_ago)s::date
                              AND i.due_date < %(as_of)s::date
                              AND (x.paid_d IS NULL OR x.paid_d > i.due_date)) AS late,
           max(%(as_of)s::date - i.due_date)
               FILTER (WHERE x.paid_d IS NULL AND i.due_date < %(as_of)s::date) AS current_dpd,
           max(COALESCE(x.paid_d, %(as_of)s::date) - i.due_date)
               FILTER (WHERE i.due_date > %(year_ago)s::date
                         AND i.due_date < %(as_of)s::date) AS worst_dpd
      FROM credit_installment i
      CROSS JOIN LATERAL (
            SELECT CASE WHEN i.status = 'PAID' AND {_PAID_DATE} <= %(as_of)s::date
                        THEN {_PAID_DATE} END AS paid_d
      ) x
     WHERE i.account_id BETWEEN %(lo)s AND %(hi)s
       AND i.status <> 'WAIVED'
       AND (i.due_date > %(year_ago)s::date OR {installment_open_sql("i")})
     GROUP BY i.account_id
), pur AS (
    SELECT pu.account_id, count(*) AS purchases
      FROM credit_purchase pu
     WHERE pu.account_id BETWEEN %(lo)s AND %(hi)s
       AND pu.status <> 'REFUNDED' AND pu.created_at < %(day_end)s
     GROUP BY pu.account_id
), flg AS (
    SELECT fa.creditaccount_id AS account_id, count(DISTINCT f.id) AS flags
      FROM risk_riskflag_accounts fa
      JOIN risk_riskflag f ON f.id = fa.riskflag_id
     WHERE fa.creditaccount_id BETWEEN %(lo)s AND %(hi)s
       AND f.status <> 'CLEARED'
       AND f.created_at >= %(day_end)s - interval '90 days' AND f.created_at < %(day_end)s
       -- an open flag the customer answered by verifying does not count against them
       AND NOT (f.status = 'OPEN' AND EXISTS (
           SELECT 1 FROM risk_verificationchallenge v
            WHERE v.flag_id = f.id AND v.account_id = fa.creditaccount_id
              AND v.status = 'PASSED' AND v.closed_at < %(day_end)s))
       AND NOT (f.froze_accounts AND EXISTS (
            SELECT 1 FROM credit_decisionreversal r
             WHERE r.account_id = fa.creditaccount_id AND r.decision = 'FREEZE'
               AND r.created_at >= f.created_at AND r.created_at < %(day_end)s))
     GROUP BY fa.creditaccount_id
), cuts AS (
    SELECT c.account_id,
           count(*) FILTER (WHERE c.created_at >= %(day_end)s - interval '90 days') AS cuts_90d,
           %(as_of)s::date - max(c.created_at::date)
               AS days_since_cut
      FROM credit_limitchange c
     WHERE c.account_id BETWEEN %(lo)s AND %(hi)s
       AND c.kind IN ('RESCORE', 'REGIONAL_POLICY', 'MANUAL_OVERRIDE')
       AND c.new_base_limit < c.old_base_limit
       AND c.created_at >= %(day_end)s - interval '365 days' AND c.created_at < %(day_end)s
       AND NOT EXISTS (SELECT 1 FROM credit_decisionreversal r
                        WHERE r.wrong_limit_change_id = c.id AND r.created_at < %(day_end)s)
     GROUP BY c.account_id
), feat AS (
    SELECT acc.*,
           COALESCE(inst.late, 0)::int AS late_12m,
           COALESCE(inst.ontime, 0)::int AS ontime_12m,
           GREATEST(COALESCE(inst.current_dpd, 0), 0)::int AS current_dpd,
           GREATEST(COALESCE(inst.worst_dpd, 0), 0)::int AS worst_dpd_12m,
           (CASE WHEN acc.effective_limit > 0
                 THEN LEAST(1000, floor(acc.outstanding_principal * 100 / acc.effective_limit))
                 WHEN acc.outstanding_principal > 0 THEN 1000
                 ELSE 0 END)::int AS utilisation_pct,
           GREATEST(0, (EXTRACT(YEAR FROM age(%(as_of)s::date, acc.opened_date)) * 12
                        + EXTRACT(MONTH FROM age(%(as_of)s::date, acc.opened_date))))::int
               AS tenure_months,
           COALESCE(pur.purchases, 0)::int AS purchases,
           COALESCE(flg.flags, 0)::int AS recent_flags,
           COALESCE(cuts.cuts_90d, 0)::int AS cuts_90d,
           cuts.days_since_cut::int AS days_since_cut
      FROM acc
      LEFT JOIN inst ON inst.account_id = acc.id
      LEFT JOIN pur ON pur.account_id = acc.id
      LEFT JOIN flg ON flg.account_id = acc.id
      LEFT JOIN cuts ON cuts.account_id = acc.id
)
"""  # noqa: S608 - SQL built from code constants; values are bound parameters


# PostgreSQL's JIT compiles these long CASE expressions for minutes, in LLVM, where it does
# not even see a cancel request (a 20,000-account chunk never finished compiling). The
# statements are simple arithmetic over many rows: the interpreter runs them fast enough.
JIT_OFF = "SET LOCAL jit = off"


# A chunk's aggregates and materialised steps hold ~100 bytes per account: with the default
# 4 MB they spill to temporary files. Transaction-local, one backend: well within budget.
CHUNK_WORK_MEM = "128MB"


def jit_off(cursor) -> None:
    """For the rest of the current transaction (callers are atomic): no JIT, and work memory
    for a chunk's hash aggregates and joins."""
    cursor.execute(JIT_OFF)
    cursor.execute("SELECT set_config('work_mem', %s, true)", [CHUNK_WORK_MEM])


@contextmanager
def features_session(cursor):
    """No JIT, and local (Shanghai) dates from `::date`, for the statements of the block.

    The time zone is put back right after: Django reads timestamps assuming the session is
    in UTC (its psycopg loader replaces the offset rather than converting), so a datetime
    read later in the same transaction would be shifted by eight hours. On an error the
    enclosing transaction or savepoint rolls the setting back with everything else.
    """
    jit_off(cursor)
    cursor.execute("SELECT current_setting('TimeZone')")
    (previous,) = cursor.fetchone()
    cursor.execute("SELECT set_config('TimeZone', %s, true)", [LOCAL_TZ_NAME])
    yield
    cursor.execute("SELECT set_config('TimeZone', %s, true)", [previous])


def day_end(as_of: date) -> datetime:
    """The first instant after `as_of`, Shanghai time."""
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=SHANGHAI)


def feature_params(*, lo: int, hi: int, as_of: date) -> dict:
    return {
        "lo": lo,
        "hi": hi,
        "as_of": as_of,
        "year_ago": as_of - timedelta(days=365),
        "day_end": day_end(as_of),
    }


def account_features(*, account_id: int, as_of: date) -> dict | None:
    """The features of one account (the same SQL), for explanations and tests."""
    columns = ", ".join(["province_code", *FEATURES])
    with transaction.atomic(), connection.cursor() as cursor, features_session(cursor):
        cursor.execute(
            f"WITH {FEATURES_SQL} SELECT {columns} FROM feat",  # noqa: S608 - constant SQL
            feature_params(lo=account_id, hi=account_id, as_of=as_of),
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(["province_code", *FEATURES], row, strict=True))
