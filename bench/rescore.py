"""`make bench BENCH_ARGS="rescore --accounts 1000000"`: one nightly rescoring run.

In a database of its own (created, migrated, dropped), generates set-based N accounts
(default 200,000) with six installments each (two 3-month plans) and a verified profile,
in segments of every 1,000 accounts:

    900 good payers at their limit          → KEEP
     30 good payers below it (15 000)       → RAISE to 20 000
     15 paid one installment 12 days late   → CUT 20 000 → 15 000 (25 %: applied)
      5 two installments past due now       → HOLD: a 50 % cut, announced (cooling-off)
     50 frozen                              → HOLD

(5 % of the accounts change or hear of a change: a nightly run after the first one moves
few limits — per-run caps, the raise cool-down and the cooling-off see to that.)

then times, in the same process:

  * the full run: features, scores, reasons, decisions, the breaker's summary, limit
    changes with their audit rows (LimitChange), announcements, and the notices published
    through core.events (outbox rows, when the notifications app is installed);
  * the pure-SQL baseline: aggregate the same installments and UPDATE the same accounts in
    one statement (rolled back);
  * a straightforward per-account ORM implementation (load, compute in Python, write each
    decision, limit_set for each change) on --orm-accounts accounts (rolled back);

and prints the figures, the ratio to each baseline, and the peak memory of this process
and of the PostgreSQL backend. Goal: 1,000,000 accounts in ≤ 120 s with ≤ 1 GiB, and
≥ 30× the per-account rate. Options: --accounts N, --orm-accounts N (10,000),
--chunk-size N (50,000), --keep (leave the database for inspection).
"""

import argparse
import gc
import os
import resource
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from bench import support

DB_NAME = "creditline_bench_rescore"
SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 6, 15)
NOW = datetime.combine(AS_OF, clock(2, 0), SHANGHAI)


GENERATE = """
INSERT INTO accounts_user
    (id, password, last_login, is_superuser, phone, email, preferred_language, is_staff,
     is_active, joined_at)
SELECT i, '!', NULL, FALSE, '+86139' || lpad(i::text, 8, '0'),
       CASE WHEN i %% 3 = 0 THEN 'c' || i || '@example.com' ELSE '' END,
       CASE WHEN i %% 10 = 0 THEN 'en' ELSE 'zh-hans' END, FALSE, TRUE, %(opened)s
  FROM generate_series(1, %(n)s) i;

INSERT INTO accounts_customerprofile
    (id, user_id, real_name, national_id_hash, national_id_last4, province_code, kyc_status,
     created_at, updated_at)
SELECT i, i, '客户' || i, md5('bench' || i), lpad((i %% 10000)::text, 4, '0'),
       (ARRAY['11','31','32','33','44','51','42','37'])[1 + i %% 8], 'VERIFIED',
       %(opened)s, %(opened)s
  FROM generate_series(1, %(n)s) i;

CREATE TEMP TABLE bench_acct AS
SELECT i AS id, i %% 1000 AS seg,
       CASE WHEN i %% 1000 BETWEEN 900 AND 929 THEN 15000 ELSE 20000 END AS base,
       (i %% 1000 BETWEEN 930 AND 944) AS late_once,
       (i %% 1000 BETWEEN 945 AND 949) AS past_due,
       (i %% 1000 >= 950) AS frozen
  FROM generate_series(1, %(n)s) i;

INSERT INTO credit_merchant (id, name, api_key_prefix, api_key_hash, is_active, single_purchase_max, created_at)
VALUES (1, 'bench', 'mk_bench', repeat('0', 64), TRUE, NULL, %(opened)s);

INSERT INTO credit_creditaccount
    (id, customer_id, status, base_limit, temporary_limit, probation_limit_cap,
     outstanding_principal, credit_balance, due_day, freeze_reasons, status_reason_codes,
     status_changed_at, pre_incident_limit, restored_at, opened_at, closed_at)
SELECT a.id, a.id, CASE WHEN a.frozen THEN 'FROZEN' ELSE 'ACTIVE' END, a.base, 0, NULL, 0, 0,
       10, CASE WHEN a.frozen THEN '{STAFF}'::varchar[] ELSE '{}' END,
       CASE WHEN a.frozen THEN '{STAFF_DECISION}'::varchar[] ELSE '{}' END,
       NULL, CASE WHEN a.frozen THEN a.base END, NULL, %(opened)s, NULL
  FROM bench_acct a;

INSERT INTO credit_limitchange
    (account_id, kind, old_base_limit, new_base_limit, old_effective_limit,
     new_effective_limit, reason_codes, actor_id, run_id, note, created_at)
SELECT a.id, 'ACCOUNT_OPEN', 0, a.base, 0, a.base, '{ACCOUNT_OPENED}', NULL, NULL, '', %(opened)s
  FROM bench_acct a;

-- Two purchases of 3 000 over 3 months: A bought 2025-10-01 (due 11-10, 12-10, 01-10),
-- B bought 2026-04-01 (due 05-10, 06-10, 07-10).
INSERT INTO credit_purchase
    (id, amount, term_months, description, merchant_reference, idempotency_key, status,
     refunded_amount, created_at, account_id, merchant_id)
SELECT 2 * a.id - 1 + p.k, 3000, 3, '', '', 'bench-' || a.id || '-' || p.k, 'AUTHORIZED', 0,
       CASE p.k WHEN 0 THEN %(bought_a)s ELSE %(bought_b)s END, a.id, 1
  FROM bench_acct a CROSS JOIN (VALUES (0), (1)) AS p(k);

INSERT INTO credit_installmentplan
    (id, principal, term_months, monthly_fee_rate, total_fee, annual_rate, status,
     extended_at, created_at, closed_at, account_id, fee_schedule_id, purchase_id)
SELECT p.id, 3000, 3, 0.008, 72.00, 0.17, 'ACTIVE', NULL, p.created_at, NULL, p.account_id,
       %(schedule)s, p.id
  FROM credit_purchase p;

INSERT INTO credit_installment
    (plan_id, account_id, sequence, due_date, original_due_date, principal, fee, penalty,
     principal_paid, fee_paid, penalty_paid, principal_refunded, fee_waived, penalty_waived,
     status, paid_at, days_past_due, due_date_before_acceleration, penalty_accrued_through)
SELECT 2 * a.id - 1 + s.k, a.id, s.n, x.due, x.due, 1000, 24.00, 0,
       CASE WHEN x.paid THEN 1000 ELSE 0 END, CASE WHEN x.paid THEN 24.00 ELSE 0 END, 0, 0, 0, 0,
       CASE WHEN x.paid THEN 'PAID' WHEN x.due < %(d)s::date THEN 'OVERDUE' ELSE 'PENDING' END,
       CASE WHEN x.paid THEN (x.due + CASE WHEN a.late_once AND s.k = 0 AND s.n = 2
                                            THEN 12 ELSE 0 END) + time '09:00'
                             AT TIME ZONE 'Asia/Shanghai' END,
       CASE WHEN x.paid THEN 0 ELSE GREATEST(%(d)s::date - x.due, 0) END, NULL, NULL
  FROM bench_acct a
 CROSS JOIN (VALUES (0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3)) AS s(k, n)
 CROSS JOIN LATERAL (
       SELECT (CASE s.k WHEN 0 THEN date '2025-11-10' ELSE date '2026-05-10' END
               + (s.n - 1) * interval '1 month')::date AS due
 ) d
 CROSS JOIN LATERAL (
       SELECT d.due, d.due < %(d)s::date AND NOT (a.past_due AND s.k = 1) AS paid
 ) x;

UPDATE credit_creditaccount c SET outstanding_principal = s.owed
  FROM (SELECT account_id, sum(principal - principal_paid) AS owed FROM credit_installment
         WHERE status <> 'PAID' GROUP BY account_id) s
 WHERE c.id = s.account_id;

SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('accounts_customerprofile', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('credit_creditaccount', 'id'), %(n)s);
SELECT setval(pg_get_serial_sequence('credit_purchase', 'id'), 2 * %(n)s);
SELECT setval(pg_get_serial_sequence('credit_installmentplan', 'id'), 2 * %(n)s);
SELECT setval(pg_get_serial_sequence('credit_merchant', 'id'), 1)
"""

# The baseline: the same installments aggregated, the same accounts updated, one statement.
BASELINE = """
UPDATE credit_creditaccount a
   SET base_limit = CASE WHEN s.late = 0 AND s.dpd = 0 THEN a.base_limit + 100
                         ELSE a.base_limit END
  FROM (SELECT i.account_id,
               count(*) FILTER (WHERE i.due_date < %(d)s::date
                                  AND (i.paid_at IS NULL OR i.paid_at::date > i.due_date)) AS late,
               COALESCE(max(%(d)s::date - i.due_date)
                        FILTER (WHERE i.paid_at IS NULL AND i.due_date < %(d)s::date), 0) AS dpd
          FROM credit_installment i GROUP BY i.account_id) s
 WHERE a.id = s.account_id AND a.status IN ('ACTIVE', 'RESTORED')
"""


def bench_policy():
    from credit.risk.models import RiskPolicy

    RiskPolicy.objects.update(is_active=False)
    return RiskPolicy.objects.create(
        version=1000,
        name="bench",
        score_bands=[
            {"min_score": 300, "limit": "2000"},
            {"min_score": 550, "limit": "8000"},
            {"min_score": 700, "limit": "15000"},
            {"min_score": 800, "limit": "20000"},
        ],
        min_limit=Decimal("1000"),
        max_limit=Decimal("50000"),
        limit_step=Decimal("100"),
        max_raise_percent=Decimal("50"),
        max_cut_percent=Decimal("50"),
        raise_cooldown_days=90,
        is_active=True,
        created_at=NOW,
        activated_at=NOW,
    )


# --- the per-account ORM implementation (the baseline to beat) ------------------------------
def orm_rescore(*, account_ids: list[int], run, now: datetime) -> int:
    """What a first implementation would do: one account at a time, through the ORM."""
    from core.events import EventType, publish
    from core.reasons import ReasonCode
    from credit.models import CreditAccount, LimitChangeKind
    from credit.risk.models import PendingLimitDecrease, RescoringDecision
    from credit.risk.policy import propose
    from credit.risk.scorecard import Scorecard
    from credit.services import limit_set

    model, policy, as_of = Scorecard(), run.policy, run.as_of
    year_ago = as_of - timedelta(days=365)
    start_of_day = datetime.combine(as_of + timedelta(days=1), clock(0), SHANGHAI)
    for account in CreditAccount.objects.filter(pk__in=account_ids).select_related(
        "customer__profile"
    ):
        late = ontime = current = worst = 0
        for inst in account.installments.exclude(status="WAIVED"):
            paid = inst.paid_at.astimezone(SHANGHAI).date() if inst.status == "PAID" else None
            if paid and paid > as_of:
                paid = None
            if year_ago < inst.due_date <= as_of and paid and paid <= inst.due_date:
                ontime += 1
            if year_ago < inst.due_date < as_of:
                if paid is None or paid > inst.due_date:
                    late += 1
                worst = max(worst, ((paid or as_of) - inst.due_date).days)
            if paid is None and inst.due_date < as_of:
                current = max(current, (as_of - inst.due_date).days)
        effective = account.effective_limit
        features = {
            "late_12m": late,
            "ontime_12m": ontime,
            "current_dpd": current,
            "worst_dpd_12m": worst,
            "utilisation_pct": int(account.outstanding_principal * 100 / effective)
            if effective
            else 0,
            "tenure_months": (as_of.year - account.opened_at.year) * 12
            + as_of.month
            - account.opened_at.month,
            "purchases": account.purchases.exclude(status="REFUNDED").count(),
            "recent_flags": account.risk_flags.exclude(status="CLEARED")
            .filter(created_at__gte=start_of_day - timedelta(days=90))
            .count(),
            "cuts_90d": account.limit_changes.filter(
                kind__in=["RESCORE", "REGIONAL_POLICY", "MANUAL_OVERRIDE"],
                created_at__gte=start_of_day - timedelta(days=90),
            ).count(),
            "days_since_cut": None,
        }
        score = model.score(features)
        province = account.customer.profile.province_code
        proposal = propose(
            policy, score=score.score, base=account.base_limit, province_code=province, as_of=as_of
        )
        new = proposal.proposed
        action, pending = "KEEP", "NONE"
        if account.status == "FROZEN":
            action = "HOLD"
        elif new > account.base_limit:
            action = "RAISE"
        elif new < account.base_limit:
            deep = (account.base_limit - new) * 100 > 30 * account.base_limit
            if deep or new - account.outstanding_principal < 0:
                action, pending = "HOLD", "CREATE"
            else:
                action = "CUT"
        codes = score.reason_codes or [ReasonCode.RESCORE]
        RescoringDecision.objects.create(
            run=run,
            account=account,
            account_status=account.status,
            province_code=province,
            score=score.score,
            reason_codes=codes,
            multiplier=proposal.multiplier,
            old_base_limit=account.base_limit,
            old_effective_limit=effective,
            outstanding_principal=account.outstanding_principal,
            proposed_limit=new,
            new_base_limit=new if action in ("RAISE", "CUT") else account.base_limit,
            action=action,
            kind=LimitChangeKind.RESCORE,
            pending_action=pending,
            **features,
        )
        if action in ("RAISE", "CUT"):
            limit_set(
                account=account,
                new_base_limit=new,
                kind=LimitChangeKind.RESCORE,
                reason_codes=[ReasonCode.GOOD_HISTORY] if action == "RAISE" else codes,
                now=now,
                run_id=run.pk,
            )
        elif pending == "CREATE":
            announced = PendingLimitDecrease.objects.create(
                account=account,
                run=run,
                kind=LimitChangeKind.RESCORE,
                old_base_limit=account.base_limit,
                new_base_limit=new,
                old_effective_limit=effective,
                new_effective_limit=new,
                reason_codes=codes,
                created_at=now,
                effective_at=now + timedelta(hours=72),
            )
            publish(
                event=EventType.LIMIT_DECREASE_PENDING,
                user=account.customer,
                context={"pending_id": announced.pk, "reason_codes": codes},
                dedupe_key=f"pending-decrease:{announced.pk}",
                now=now,
            )
    return len(account_ids)


def _count(cursor, sql: str, params=None) -> int:
    cursor.execute(sql, params or [])
    return cursor.fetchone()[0]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench rescore")
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--orm-accounts", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    support.setup_django()
    from django.core.management import call_command
    from django.db import connection, transaction

    from credit.models import FeeSchedule
    from credit.risk import runs
    from credit.risk.models import RescoringRun, RunStatus

    with support.server_connection() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')
        server.execute(f'CREATE DATABASE "{DB_NAME}"')
    previous = support.use_database(DB_NAME)
    support.isolate_broker()
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"   migrated in {time.perf_counter() - started:.1f} s")
        params = {
            "n": args.accounts,
            "d": AS_OF,
            "opened": datetime(2024, 1, 15, 10, tzinfo=SHANGHAI),
            "bought_a": datetime(2025, 10, 1, 12, tzinfo=SHANGHAI),
            "bought_b": datetime(2026, 4, 1, 12, tzinfo=SHANGHAI),
            "schedule": FeeSchedule.objects.get(is_active=True).pk,
        }
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in support.statements(GENERATE):
                cursor.execute(statement, params)
        policy = bench_policy()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            installments = _count(cursor, "SELECT count(*) FROM credit_installment")
            accounts = _count(cursor, "SELECT count(*) FROM credit_creditaccount")
            backend = _count(cursor, "SELECT pg_backend_pid()")
        print(
            f"   generated {accounts:,} accounts, {installments:,} installments "
            f"in {time.perf_counter() - started:.1f} s"
        )

        # The per-account ORM implementation first (rolled back), on the data as generated.
        orm_ids = list(range(1, min(args.orm_accounts, accounts) + 1))
        started = time.perf_counter()
        with transaction.atomic():
            orm_run = RescoringRun.objects.create(
                as_of=AS_OF,
                dry_run=True,
                policy=policy,
                model_name="orm baseline",
                chunk_size=len(orm_ids),
                cooling_off_percent=30,
                cooling_off_hours=72,
                breaker_cut_percent=5,
                breaker_mean_shift=25,
                planned_at=NOW,
            )
            orm_rescore(account_ids=orm_ids, run=orm_run, now=NOW)
            transaction.set_rollback(True)
        orm_seconds = time.perf_counter() - started
        orm_rate = len(orm_ids) / orm_seconds
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            backend = _count(cursor, "SELECT pg_backend_pid()")

        # The run, timed by phase through the real entry point.
        phases: dict[str, float] = {}

        def timed(name, function):
            def wrapper(*a, **kw):
                began = time.perf_counter()
                try:
                    return function(*a, **kw)
                finally:
                    phases[name] = phases.get(name, 0.0) + time.perf_counter() - began

            return wrapper

        originals = {
            n: getattr(runs, n)
            for n in ("_start", "_score_chunks", "_judge", "_apply_chunks", "_finish")
        }
        labels = {
            "_start": "plan chunks",
            "_score_chunks": "features, scores, decisions",
            "_judge": "summary and breaker",
            "_apply_chunks": "limit changes, audit, notices",
            "_finish": "finish",
        }
        for name, function in originals.items():
            setattr(runs, name, timed(labels[name], function))
        from credit.risk import bulk
        from notifications.services import enqueue as outbox

        published = {"events": 0}
        original_publish = bulk.publish_many

        def counted_publish(notices, *, now):
            notices = list(notices)
            published["events"] += len(notices)
            return original_publish(notices, now=now)

        bulk.publish_many = timed("notices (publish_many)", counted_publish)
        # the outbox kicks a dispatch task per batch of due rows at each commit
        original_kick = outbox.broker_send
        outbox.broker_send = timed("dispatch kicks on commit", original_kick)
        gc.collect()
        rss_before = support.peak_kib() if support.reset_peak() else None
        try:
            started = time.perf_counter()
            run = runs.run_plan(as_of=AS_OF, now=NOW, chunk_size=args.chunk_size)
            run = runs.run_execute(run=run, now=NOW)
            run_seconds = time.perf_counter() - started
        finally:
            for name, function in originals.items():
                setattr(runs, name, function)
            bulk.publish_many = original_publish
            outbox.broker_send = original_kick
        rss_run = support.peak_kib() if rss_before is not None else None
        rss_life = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        backend_run = support.peak_kib(backend)
        assert run.status == RunStatus.APPLIED, (run.status, run.summary.get("breaker"))

        with connection.cursor() as cursor:
            written = {
                "decisions": _count(
                    cursor,
                    "SELECT count(*) FROM risk_rescoringdecision WHERE run_id = %s",
                    [run.pk],
                ),
                "limit changes": _count(
                    cursor, "SELECT count(*) FROM credit_limitchange WHERE run_id = %s", [run.pk]
                ),
                "announced decreases": _count(
                    cursor,
                    "SELECT count(*) FROM risk_pendinglimitdecrease WHERE run_id = %s",
                    [run.pk],
                ),
            }
            try:
                written["outbox rows"] = _count(
                    cursor,
                    "SELECT count(*) FROM notifications_notification WHERE created_at = %s",
                    [NOW],
                )
            except Exception:  # the notifications app is not installed
                connection.rollback() if not connection.get_autocommit() else None

        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BASELINE, {"d": AS_OF})
            baseline_rows = cursor.rowcount
            transaction.set_rollback(True)
        baseline_seconds = time.perf_counter() - started

        rate = accounts / run_seconds
        summary = run.summary
        print(f"   run of {accounts:,} accounts: {run_seconds:.2f} s ({rate:,.0f} accounts/s)")
        for label in labels.values():
            if label in phases:
                print(f"      {label:<32} {phases[label]:>7.2f} s")
        notices = phases.get("notices (publish_many)", 0.0)
        if published["events"]:
            print(
                f"        of which notices through core.events.publish_many: "
                f"{notices:.2f} s for {published['events']:,} events "
                f"({1000 * notices / published['events']:.3f} ms each)"
            )
            kicks = phases.get("dispatch kicks on commit", 0.0)
            if kicks:
                print(
                    f"        and the outbox's dispatch kicks at commit (Celery send_task): {kicks:.2f} s"
                )
            engine = run_seconds - notices - kicks
            print(
                f"      the run without the notices: {engine:.2f} s "
                f"({accounts / engine:,.0f} accounts/s)"
            )
        print(f"      actions {summary['actions']}, announced {summary['pending']}")
        print(f"      applied {summary['applied']}")
        print("      rows written: " + ", ".join(f"{k} {v:,}" for k, v in written.items()))
        print(
            f"   baseline, pure SQL (aggregate {installments:,} installments, UPDATE "
            f"{baseline_rows:,} accounts, one statement, rolled back): {baseline_seconds:.2f} s"
            f" — the run takes {run_seconds / baseline_seconds:.1f}× as long"
        )
        print(
            f"   baseline, per-account ORM on {len(orm_ids):,} accounts (rolled back): "
            f"{orm_seconds:.2f} s ({orm_rate:,.0f} accounts/s) — the run is "
            f"{rate / orm_rate:.0f}× faster per account"
        )
        print(
            f"   peak memory of the run: this process {support.mib(rss_run)} (resident before it "
            f"{support.mib(rss_before)}; over the whole bench {support.mib(rss_life)}); its PostgreSQL "
            f"backend {support.mib(backend_run)} (shared buffers it touched included)"
        )
        projected = 1_000_000 / rate
        goal = (
            "met"
            if projected <= 120 and (rss_run or rss_life) <= 1024 * 1024 and rate / orm_rate >= 30
            else "MISSED"
        )
        print(
            f"   goal (1,000,000 in ≤ 120 s, ≤ 1 GiB, ≥ 30× the ORM rate): {goal}"
            + ("" if accounts >= 1_000_000 else f" (1,000,000 at this rate: {projected:.0f} s)")
        )
    finally:
        from django.db import connections

        connections.close_all()
        support.use_database(previous)
        support.purge_broker()
        if not args.keep:
            with support.server_connection() as server:
                server.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


if __name__ == "__main__":
    import sys

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    main(sys.argv[1:])
