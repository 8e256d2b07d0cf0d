"""`make bench BENCH_ARGS=close_day`: one business-day close over 1,000,000 installments.

In a database of its own (created, migrated, dropped), generates set-based 200,000 accounts
with 1,000,000 installments as they stand after yesterday's close — most current, some
overdue across every bucket (those 7+ days late already frozen), frozen accounts cured
yesterday, restored accounts at every point of probation, temporary grants expiring today
(some sending accounts NEGATIVE), ending in 3 days or starting today — then times:

  * the close of today (every step, its audit rows, notices and the reminders), and
  * the baseline: one plain SQL UPDATE of the same 1,000,000 installment rows (rolled back),

and prints both, their ratio, and the peak memory of this process and of the PostgreSQL
backend that ran them. Options: --accounts N (default 200000; 5 installments each), --keep
(leave the database for inspection).
"""

import argparse
import resource
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from bench import support

DB_NAME = "creditline_bench_close_day"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BUSINESS_DATE = date(2026, 6, 15)


GENERATE = """
-- Yesterday (D − 1) is closed; everything below is the book as that close left it.
INSERT INTO accounts_user
    (id, password, last_login, is_superuser, phone, email, preferred_language, is_staff,
     is_active, joined_at)
SELECT i, '!', NULL, FALSE, '+86139' || lpad(i::text, 8, '0'),
       CASE WHEN i %% 3 = 0 THEN 'c' || i || '@example.com' ELSE '' END,
       CASE WHEN i %% 10 = 0 THEN 'en' ELSE 'zh-hans' END, FALSE, TRUE, %(opened)s
  FROM generate_series(1, %(n)s) i;

CREATE TEMP TABLE bench_acct AS
SELECT i AS id, i %% 1000 AS seg,
       CASE WHEN i %% 2 = 0 THEN 6 ELSE 3 END AS term,
       -- days past due today of the oldest unpaid installment (0: current)
       CASE WHEN i %% 1000 BETWEEN 940 AND 969 THEN i %% 1000 - 939
            WHEN i %% 1000 BETWEEN 970 AND 979 THEN 31 + (i %% 1000 - 970) * 3
            WHEN i %% 1000 BETWEEN 980 AND 986 THEN 61 + (i %% 1000 - 980) * 4
            WHEN i %% 1000 BETWEEN 987 AND 991 THEN 91 + (i %% 1000 - 987) * 30
            ELSE 0 END AS k
  FROM generate_series(1, %(n)s) i;
ALTER TABLE bench_acct ADD COLUMN paid int, ADD COLUMN anchor date;
UPDATE bench_acct SET paid = CASE WHEN k > 0 THEN 0 ELSE id %% 3 END,
                      anchor = CASE WHEN k > 0 THEN %(d)s::date - k
                                    ELSE %(d)s::date + (id %% 30) END;

INSERT INTO credit_merchant (id, name, api_key_prefix, api_key_hash, is_active, single_purchase_max, created_at)
VALUES (1, 'bench', 'mk_bench', repeat('0', 64), TRUE, NULL, %(opened)s);

INSERT INTO credit_creditaccount
    (id, customer_id, status, base_limit, temporary_limit, probation_limit_cap,
     outstanding_principal, credit_balance, due_day, freeze_reasons, status_reason_codes,
     status_changed_at, pre_incident_limit, restored_at, opened_at, closed_at)
SELECT i, i, 'ACTIVE', CASE WHEN i %% 300 = 0 THEN 2000 ELSE 10000 END,
       CASE WHEN i %% 50 = 0 THEN 2000 ELSE 0 END, NULL, 0, 0,
       1 + i %% 28, '{}', '{}', NULL, NULL, NULL, %(opened)s, NULL
  FROM generate_series(1, %(n)s) i;

INSERT INTO credit_purchase
    (id, amount, term_months, description, merchant_reference, idempotency_key, status,
     refunded_amount, created_at, account_id, merchant_id)
SELECT a.id, 3000, a.term, '', '', 'a' || a.id, 'AUTHORIZED', 0, %(opened)s, a.id, 1
  FROM bench_acct a
UNION ALL
SELECT %(n)s + a.id, 300, 1, '', '', 'b' || a.id, 'AUTHORIZED', 0, %(opened)s, a.id, 1
  FROM bench_acct a WHERE a.id %% 2 = 1;

INSERT INTO credit_installmentplan
    (id, principal, term_months, monthly_fee_rate, total_fee, annual_rate, status,
     extended_at, created_at, closed_at, account_id, fee_schedule_id, purchase_id)
SELECT p.id, p.amount, p.term_months,
       CASE p.term_months WHEN 6 THEN 0.0075 WHEN 3 THEN 0.008 ELSE 0 END,
       CASE p.term_months WHEN 6 THEN 135.00 WHEN 3 THEN 72.00 ELSE 0 END,
       0.17, 'ACTIVE', NULL, %(opened)s, NULL, p.account_id, %(schedule)s, p.id
  FROM credit_purchase p;

-- Plan A: `paid` installments repaid; the rest monthly from `anchor`, overdue as of D − 1.
INSERT INTO credit_installment
    (plan_id, account_id, sequence, due_date, original_due_date, principal, fee, penalty,
     principal_paid, fee_paid, penalty_paid, principal_refunded, fee_waived, penalty_waived,
     status, paid_at, days_past_due, due_date_before_acceleration, penalty_accrued_through)
SELECT a.id, a.id, s.n + 1, x.due, x.due, x.pr, x.fee,
       CASE WHEN NOT x.is_paid AND x.ydpd > 3
            THEN ROUND((x.pr + x.fee) * 0.0005, 2) * LEAST(x.ydpd - 3, 400) ELSE 0 END,
       CASE WHEN x.is_paid THEN x.pr ELSE 0 END, CASE WHEN x.is_paid THEN x.fee ELSE 0 END,
       0, 0, 0, 0,
       CASE WHEN x.is_paid THEN 'PAID' WHEN x.ydpd > 0 THEN 'OVERDUE' ELSE 'PENDING' END,
       CASE WHEN x.is_paid THEN %(opened)s END,
       CASE WHEN x.is_paid THEN 0 ELSE x.ydpd END, NULL,
       CASE WHEN NOT x.is_paid AND x.ydpd > 3 THEN %(d)s::date - 1 END
  FROM bench_acct a
 CROSS JOIN LATERAL generate_series(0, a.term - 1) AS s(n)
 CROSS JOIN LATERAL (
       SELECT a.anchor + 30 * (s.n - a.paid) AS due, 3000 / a.term AS pr,
              CASE a.term WHEN 6 THEN 22.50 ELSE 24.00 END AS fee, s.n < a.paid AS is_paid,
              GREATEST((%(d)s::date - 1) - (a.anchor + 30 * (s.n - a.paid)), 0) AS ydpd
 ) x;
-- Plan B ("pay next month", no fee) of odd accounts: due in the coming 20 days.
INSERT INTO credit_installment
    (plan_id, account_id, sequence, due_date, original_due_date, principal, fee, penalty,
     principal_paid, fee_paid, penalty_paid, principal_refunded, fee_waived, penalty_waived,
     status, paid_at, days_past_due, due_date_before_acceleration, penalty_accrued_through)
SELECT %(n)s + a.id, a.id, 1, %(d)s::date + a.id %% 20, %(d)s::date + a.id %% 20, 300, 0, 0,
       0, 0, 0, 0, 0, 0, 'PENDING', NULL, 0, NULL, NULL
  FROM bench_acct a WHERE a.id %% 2 = 1;

UPDATE credit_creditaccount c SET outstanding_principal = s.owed
  FROM (SELECT account_id, sum(principal - principal_paid) AS owed FROM credit_installment
         WHERE status <> 'PAID' GROUP BY account_id) s
 WHERE c.id = s.account_id;

-- Temporary grants: every 50th account has 2,000 — a third ending yesterday (expire today;
-- accounts with a 2,000 base go NEGATIVE), a third ending in 3 days, a third later; every
-- 200th account from the 125th has one starting today.
INSERT INTO credit_temporarylimitgrant
    (account_id, amount, starts_at, ends_at, status, campaign, reason, created_at, ended_at,
     granted_by_id)
SELECT i, 2000, %(cutoff)s - interval '20 days',
       CASE (i / 50) %% 3 WHEN 0 THEN %(cutoff)s - interval '1 second'
                          WHEN 1 THEN %(cutoff)s + interval '3 days 12 hours'
                          ELSE %(cutoff)s + interval '30 days' END,
       'ACTIVE', 'bench', '', %(opened)s, NULL::timestamptz, NULL::bigint
  FROM generate_series(50, %(n)s, 50) i
UNION ALL
SELECT i, 1000, %(cutoff)s, %(cutoff)s + interval '30 days', 'SCHEDULED', 'bench', '',
       %(opened)s, NULL, NULL
  FROM generate_series(125, %(n)s, 200) i;

-- Statuses as yesterday's close left them.
UPDATE credit_creditaccount c
   SET status = 'FROZEN', freeze_reasons = '{OVERDUE}', status_reason_codes = '{OVERDUE}',
       pre_incident_limit = c.base_limit, status_changed_at = %(opened)s
  FROM bench_acct a
 WHERE a.id = c.id AND (a.k >= 8 OR a.seg BETWEEN 992 AND 995);
UPDATE credit_creditaccount c
   SET status = 'RESTORED', pre_incident_limit = 10000,
       restored_at = %(cutoff)s - (CASE a.seg WHEN 996 THEN 30 WHEN 997 THEN 90
                                               WHEN 998 THEN 10 ELSE 50 END) * interval '1 day',
       probation_limit_cap = CASE WHEN a.seg IN (997, 999) THEN 10000 ELSE 5000 END,
       status_changed_at = %(opened)s
  FROM bench_acct a
 WHERE a.id = c.id AND a.seg BETWEEN 996 AND 999;

INSERT INTO servicing_accountdelinquency
    (account_id, bucket, days_past_due, overdue_amount, bucket_since, last_overdue_date,
     worst_days_past_due, updated_date)
SELECT a.id,
       CASE WHEN a.k - 1 <= 30 THEN 'DPD_1_30' WHEN a.k - 1 <= 60 THEN 'DPD_31_60'
            WHEN a.k - 1 <= 90 THEN 'DPD_61_90' ELSE 'DPD_90_PLUS' END,
       a.k - 1, 1000, %(d)s::date - 10, %(d)s::date - 1, a.k - 1, %(d)s::date - 1
  FROM bench_acct a WHERE a.k > 1
UNION ALL
SELECT a.id, 'DPD_1_30', 8, 1000, %(d)s::date - 10, %(d)s::date - 1, 8, %(d)s::date - 1
  FROM bench_acct a WHERE a.seg BETWEEN 992 AND 995
UNION ALL
SELECT a.id, 'CURRENT', 0, 0, %(d)s::date - 100, %(d)s::date - 100, 12, %(d)s::date - 1
  FROM bench_acct a WHERE a.seg BETWEEN 996 AND 999;

INSERT INTO servicing_businessday
    (business_date, started_at, finished_at, catch_up, steps, seconds)
VALUES (%(d)s::date - 1, %(opened)s, %(opened)s, FALSE, '{}', 0);

SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('credit_creditaccount', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('credit_purchase', 'id'), 2 * %(n)s);
SELECT setval(pg_get_serial_sequence('credit_installmentplan', 'id'), 2 * %(n)s);
SELECT setval(pg_get_serial_sequence('credit_merchant', 'id'), 1);
"""

BASELINE = """
UPDATE credit_installment
   SET days_past_due = CASE WHEN status IN ('PENDING', 'OVERDUE') AND due_date < %(d)s
                            THEN %(d)s - due_date ELSE days_past_due END
"""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench close_day")
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    support.setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from credit.models import FeeSchedule
    from credit.servicing.services import business_day_close

    with support.server_connection() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        server.execute(f'CREATE DATABASE "{DB_NAME}"')
    previous = support.use_database(DB_NAME)
    support.isolate_broker()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"   migrated in {time.perf_counter() - started:.1f} s")

        zone = SHANGHAI
        cutoff = datetime.combine(BUSINESS_DATE, clock(0), zone)
        params = {
            "n": args.accounts,
            "d": BUSINESS_DATE,
            "cutoff": cutoff,
            "opened": cutoff - timedelta(days=400),
            "schedule": FeeSchedule.objects.get(is_active=True).pk,
        }
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in support.statements(GENERATE):
                cursor.execute(statement, params)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT count(*) FROM credit_installment")
            installments = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM credit_creditaccount")
            accounts = cursor.fetchone()[0]
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        print(
            f"   generated {accounts:,} accounts, {installments:,} installments "
            f"in {time.perf_counter() - started:.1f} s"
        )

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        [day] = business_day_close(business_date=BUSINESS_DATE, now=cutoff + timedelta(minutes=30))
        close_seconds = time.perf_counter() - started
        rss_close = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        backend_close = support.peak_kib(backend)

        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BASELINE, {"d": BUSINESS_DATE})
            baseline_rows = cursor.rowcount
            transaction.set_rollback(True)
        baseline_seconds = time.perf_counter() - started

        print(f"   close of {BUSINESS_DATE}: {close_seconds:.2f} s")
        for name, step in day.steps.items():
            detail = ", ".join(
                f"{k} {v}" for k, v in step.items() if k not in ("seconds", "rows") and v
            )
            print(
                f"      {name:<14} {step['seconds']:>7.2f} s  {step['rows']:>8,} rows"
                f"{'  (' + detail + ')' if detail else ''}"
            )
        steps = day.steps.values()
        step_seconds = sum(step["seconds"] for step in steps)
        events = sum(step["events"] for step in steps)
        publishing = sum(step.get("publish_seconds", 0) for step in steps)
        print(
            f"   of which: {events:,} notices published through "
            f"core.events.publish_many {publishing:.2f} s; commit and on-commit hooks "
            f"(the outbox's Celery kicks, deferred FK checks) {close_seconds - step_seconds:.2f} s"
        )
        print(
            f"   baseline (plain UPDATE of {baseline_rows:,} installment rows, rolled back): "
            f"{baseline_seconds:.2f} s"
        )
        print(f"   ratio close / baseline: {close_seconds / baseline_seconds:.1f}×")
        print(
            f"   peak memory: this process {support.mib(rss_close)} "
            f"(before the close {support.mib(rss_before)}); PostgreSQL backend {support.mib(backend_close)}"
        )
        goal = "met" if close_seconds <= 60 and rss_close <= 1024 * 1024 else "MISSED"
        print(f"   goal (≤ 60 s, ≤ 1 GiB): {goal}")
    finally:
        from django.db import connections

        connections.close_all()
        support.use_database(previous)
        support.purge_broker()
        if not args.keep:
            with support.server_connection() as server:
                server.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
