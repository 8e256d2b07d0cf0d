"""Set-based writes of the risk engine: many accounts per statement, audited and announced.

Each helper changes accounts with one UPDATE, writes their LimitChange rows with one INSERT
(same transaction, the same numbers `credit.services.limit_change_record` would write),
and publishes one event per account through `core.events.publish_many`, as the
single-account services do (same event types, context keys and dedupe keys), one batch per
statement.

Invariant 2 (status NEGATIVE ⇔ available < 0 outside FROZEN/CLOSED): these statements only
touch rows whose status needs no transition after the change — the guard is part of the
UPDATE's WHERE — so the database CHECK can never fail here; callers send the rest through
the single-account services (which run the FSM transitions).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import User
from accounts.selectors import users_by_id
from core.events import EventType, Notice, publish_many
from credit.formulas import available_sql, effective_limit_sql, status_agrees_sql
from credit.risk.features import SHANGHAI
from credit.services.notices import limit_notice, reason_words

# After the change, the status agrees with the numbers without a transition.
STATUS_STAYS_CONSISTENT = status_agrees_sql("a")


@dataclass(frozen=True)
class ChangedLimit:
    limit_change_id: int
    account_id: int
    customer_id: int
    old_effective: Decimal
    new_effective: Decimal
    available: Decimal
    reason_codes: list[str]


def base_limits_set(
    *,
    source_sql: str,
    params: dict,
    guard_sql: str,
    run_id: int | None,
    actor_id: int | None,
    note: str,
    now: datetime,
) -> list[ChangedLimit]:
    """Move base limits from `source_sql` (columns account_id, old_base, new_base, kind,
    reason_codes, expected_status) where the account still has `old_base` and `guard_sql`
    holds after the change; one LimitChange per account moved. Returns what moved."""
    sql = f"""
    WITH src AS ({source_sql}),
    upd AS (
        UPDATE credit_creditaccount a SET base_limit = src.new_base
          FROM src
         WHERE a.id = src.account_id AND a.base_limit = src.old_base AND ({guard_sql})
        RETURNING a.id, a.customer_id, src.old_base, a.base_limit, a.temporary_limit,
                  a.probation_limit_cap, a.outstanding_principal, src.kind, src.reason_codes
    ), ins AS (
        INSERT INTO credit_limitchange (account_id, kind, old_base_limit, new_base_limit,
                                        old_effective_limit, new_effective_limit, reason_codes,
                                        actor_id, run_id, note, created_at)
        SELECT u.id, u.kind, u.old_base, u.base_limit,
               {effective_limit_sql("u", "u.old_base")}, {effective_limit_sql("u")},
               u.reason_codes, %(_actor_id)s, %(_run_id)s, %(_note)s, %(_now)s
          FROM upd u ORDER BY u.id
        RETURNING id, account_id, old_effective_limit, new_effective_limit, reason_codes
    )
    SELECT ins.id, ins.account_id, u.customer_id, ins.old_effective_limit,
           ins.new_effective_limit, {available_sql("u", "ins.new_effective_limit")},
           ins.reason_codes
      FROM ins JOIN upd u ON u.id = ins.account_id
     ORDER BY ins.id
    """  # noqa: S608 - SQL built from code constants; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            params | {"_actor_id": actor_id, "_run_id": run_id, "_note": note, "_now": now},
        )
        rows = [ChangedLimit(*row) for row in cursor.fetchall()]
    publish_limit_changes(rows, now=now)
    return rows


class _ReasonTexts(dict):
    def __missing__(self, codes: tuple[str, ...]) -> list[str]:
        texts = reason_words(codes)
        self[codes] = texts
        return texts


def publish_limit_changes(rows: list[ChangedLimit], *, now: datetime) -> None:
    """LIMIT_RAISED / LIMIT_CUT for each change of the usable limit (as limit_change_record)."""
    users = users_by_id(r.customer_id for r in rows)
    texts = _ReasonTexts()

    def notices():
        for row in rows:
            built = limit_notice(
                old_limit=row.old_effective,
                new_limit=row.new_effective,
                available=row.available,
                reason_codes=row.reason_codes,
                limit_change_id=row.limit_change_id,
                reasons=texts[tuple(row.reason_codes)],
            )
            if built is not None:
                event, context, dedupe_key = built
                yield Notice(event, users[row.customer_id], context, dedupe_key)

    publish_many(notices(), now=now)


def appeal_path(pending_id: int) -> str:
    return settings.RISK_APPEAL_PATH.format(pending_id=pending_id)


def _announced_cut(
    pending_id: int, old_effective: Decimal, new_effective: Decimal, effective_at: datetime
) -> dict:
    """What every notice about an announced decrease says of it."""
    return {
        "old_limit": str(old_effective),
        "new_limit": str(new_effective),
        "effective_date": timezone.localtime(effective_at, SHANGHAI).date().isoformat(),
        "pending_id": pending_id,
    }


def pending_decrease_notice(
    *,
    pending_id: int,
    user: User,
    old_effective: Decimal,
    new_effective: Decimal,
    effective_at: datetime,
    reason_codes: list[str],
    texts: dict,
) -> Notice:
    """LIMIT_DECREASE_PENDING: the announced cut, its reasons, its date, the appeal link."""
    return Notice(
        EventType.LIMIT_DECREASE_PENDING,
        user,
        {
            **_announced_cut(pending_id, old_effective, new_effective, effective_at),
            "effective_at": effective_at.isoformat(),
            "reason_codes": list(reason_codes),
            "reasons": texts[tuple(reason_codes)],
            "appeal_url": appeal_path(pending_id),
        },
        f"pending-decrease:{pending_id}",
    )


def pending_cancelled_notice(
    *,
    pending_id: int,
    user: User,
    old_effective: Decimal,
    new_effective: Decimal,
    effective_at: datetime,
) -> Notice:
    """LIMIT_DECREASE_CANCELLED: the announced cut will not happen."""
    return Notice(
        EventType.LIMIT_DECREASE_CANCELLED,
        user,
        _announced_cut(pending_id, old_effective, new_effective, effective_at),
        f"pending-decrease:{pending_id}:cancelled",
    )


def pending_decreases_create(*, run_id: int, lo: int, hi: int, now: datetime, hours: int) -> int:
    """Announce the deep cuts of a chunk (decisions CREATE/REPLACE) as pending decreases."""
    sql = f"""
    WITH ins AS (
        INSERT INTO risk_pendinglimitdecrease (
            account_id, run_id, kind, old_base_limit, new_base_limit, old_effective_limit,
            new_effective_limit, reason_codes, status, created_at, effective_at,
            decided_at, decided_by_id, decided_by_run_id, decision_note, limit_change_id,
            announced_by_id, announcement_note)
        SELECT d.account_id, d.run_id, d.kind, a.base_limit, d.proposed_limit,
               {effective_limit_sql("a")}, {effective_limit_sql("a", "d.proposed_limit")},
               d.reason_codes, 'PENDING', %(now)s, %(now)s + make_interval(hours => %(hours)s),
               NULL, NULL, NULL, '', NULL, NULL, ''
          FROM risk_rescoringdecision d
          JOIN credit_creditaccount a ON a.id = d.account_id
         WHERE d.run_id = %(run_id)s AND d.account_id BETWEEN %(lo)s AND %(hi)s
           AND d.pending_action IN ('CREATE', 'REPLACE')
           AND a.base_limit = d.old_base_limit AND a.status = d.account_status
         ORDER BY d.account_id
        ON CONFLICT (account_id) WHERE status = 'PENDING' DO NOTHING
        RETURNING id, account_id, old_effective_limit, new_effective_limit, effective_at,
                  reason_codes
    )
    SELECT ins.id, a.customer_id, ins.old_effective_limit, ins.new_effective_limit,
           ins.effective_at, ins.reason_codes
      FROM ins JOIN credit_creditaccount a ON a.id = ins.account_id
     ORDER BY ins.id
    """  # noqa: S608 - SQL built from code constants; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"run_id": run_id, "lo": lo, "hi": hi, "now": now, "hours": hours})
        rows = cursor.fetchall()
    users = users_by_id(row[1] for row in rows)
    texts = _ReasonTexts()
    publish_many(
        (
            pending_decrease_notice(
                pending_id=pending_id,
                user=users[customer_id],
                old_effective=old_eff,
                new_effective=new_eff,
                effective_at=effective_at,
                reason_codes=codes,
                texts=texts,
            )
            for pending_id, customer_id, old_eff, new_eff, effective_at, codes in rows
        ),
        now=now,
    )
    return len(rows)


def pending_decreases_cancel_superseded(
    *, run_id: int, lo: int, hi: int, now: datetime, note: str
) -> int:
    """Cancel announced decreases the chunk's scores no longer justify (CANCEL/REPLACE).

    The customer hears that a cancelled one will not happen; a replaced one is followed by
    its replacement's own announcement instead."""
    # The chunk's decisions are read once (MATERIALIZED): written in bulk moments before,
    # they have no statistics yet, and the planner used to re-scan all of them for every
    # pending decrease (6 s instead of 20 ms a chunk of 50,000 with 500 pending).
    sql = """
    WITH superseded AS MATERIALIZED (
        SELECT d.pending_id, d.pending_action FROM risk_rescoringdecision d
         WHERE d.run_id = %(run_id)s AND d.account_id BETWEEN %(lo)s AND %(hi)s
           AND d.pending_action IN ('CANCEL', 'REPLACE')
    ), cancelled AS (
        UPDATE risk_pendinglimitdecrease p
           SET status = 'CANCELLED', decided_at = %(now)s, decided_by_run_id = %(run_id)s,
               decision_note = %(note)s
          FROM superseded d
         WHERE p.id = d.pending_id AND p.status = 'PENDING'
        RETURNING p.id, p.account_id, p.old_effective_limit, p.new_effective_limit,
                  p.effective_at, d.pending_action
    )
    SELECT c.id, a.customer_id, c.old_effective_limit, c.new_effective_limit, c.effective_at,
           c.pending_action
      FROM cancelled c JOIN credit_creditaccount a ON a.id = c.account_id
     ORDER BY c.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"run_id": run_id, "lo": lo, "hi": hi, "now": now, "note": note})
        rows = cursor.fetchall()
    withdrawn = [row for row in rows if row[5] == "CANCEL"]
    users = users_by_id(row[1] for row in withdrawn)
    publish_many(
        (
            pending_cancelled_notice(
                pending_id=pending_id,
                user=users[customer_id],
                old_effective=old_eff,
                new_effective=new_eff,
                effective_at=effective_at,
            )
            for pending_id, customer_id, old_eff, new_eff, effective_at, _action in withdrawn
        ),
        now=now,
    )
    return len(rows)


def campaign_grants_create(*, run_id: int, lo: int, hi: int, now: datetime) -> int:
    """Campaign grants for the chunk's eligible accounts: grant rows (ACTIVE from now),
    the temporary limit added, a TEMPORARY_GRANT LimitChange and TEMPORARY_LIMIT_GRANTED."""
    old_effective = effective_limit_sql("u", temporary="(u.temporary_limit - u.amount)")
    sql = f"""
    WITH g AS (
        INSERT INTO credit_temporarylimitgrant (account_id, amount, starts_at, ends_at, status,
                                                campaign, reason, granted_by_id, created_at,
                                                ended_at)
        SELECT d.account_id, d.campaign_amount, %(now)s, c.ends_at, 'ACTIVE', c.name, '', NULL,
               %(now)s, NULL
          FROM risk_rescoringdecision d
          JOIN risk_seasonalcampaign c ON c.id = d.campaign_id
          JOIN credit_creditaccount a ON a.id = d.account_id
         WHERE d.run_id = %(run_id)s AND d.account_id BETWEEN %(lo)s AND %(hi)s
           AND d.campaign_id IS NOT NULL AND a.status = 'ACTIVE' AND c.ends_at > %(now)s
           AND NOT EXISTS (SELECT 1 FROM credit_temporarylimitgrant x
                            WHERE x.account_id = d.account_id AND x.campaign = c.name)
         ORDER BY d.account_id
        RETURNING id, account_id, amount, ends_at, campaign
    ), rg AS (
        INSERT INTO risk_rungrant (run_id, grant_id, account_id)
        SELECT %(run_id)s, g.id, g.account_id FROM g
    ), upd AS (
        UPDATE credit_creditaccount a SET temporary_limit = a.temporary_limit + g.amount
          FROM g
         WHERE a.id = g.account_id
        RETURNING a.id, a.customer_id, a.base_limit, a.temporary_limit, a.probation_limit_cap,
                  a.outstanding_principal, g.amount, g.id AS grant_id, g.ends_at, g.campaign
    ), lc AS (
        INSERT INTO credit_limitchange (account_id, kind, old_base_limit, new_base_limit,
                                        old_effective_limit, new_effective_limit, reason_codes,
                                        actor_id, run_id, note, created_at)
        SELECT u.id, 'TEMPORARY_GRANT', u.base_limit, u.base_limit, {old_effective},
               {effective_limit_sql("u")}, ARRAY['CAMPAIGN'], NULL, %(run_id)s, u.campaign,
               %(now)s
          FROM upd u ORDER BY u.id
    )
    SELECT u.grant_id, u.customer_id, u.amount, u.ends_at, u.campaign, {effective_limit_sql("u")}
      FROM upd u ORDER BY u.grant_id
    """  # noqa: S608 - SQL built from code constants; values are bound parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"run_id": run_id, "lo": lo, "hi": hi, "now": now})
        rows = cursor.fetchall()
    users = users_by_id(row[1] for row in rows)
    publish_many(
        (
            Notice(
                EventType.TEMPORARY_LIMIT_GRANTED,
                users[customer_id],
                {
                    "amount": str(amount),
                    "ends_at": timezone.localtime(ends_at, SHANGHAI).isoformat(),
                    "campaign": campaign,
                    "effective_limit": str(effective),
                },
                f"grant:{grant_id}:granted",
            )
            for grant_id, customer_id, amount, ends_at, campaign, effective in rows
        ),
        now=now,
    )
    return len(rows)
