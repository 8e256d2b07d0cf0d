"""The decision of a run for a range of accounts, in one INSERT … SELECT.

features (credit.risk.features) → score and reasons (the scoring model's SQL) → proposed
limit (credit.risk.policy) → what to do now:

    FROZEN account                               HOLD (nothing changes; staff are on it)
    an announced decrease is pending, the limit
      is still the one it was announced over, and
      the proposal still justifies it (≤ announced)
      or staff announced it (ANNOUNCED_CUT):
        past its effective time                  CUT, confirming it      (pending CONFIRM)
        still cooling off                        HOLD                    (pending WAIT)
      otherwise (no longer justified, or stale)  it is cancelled         (pending CANCEL), and
                                                 the proposal is decided afresh below
                                                 (a new deep cut: REPLACE)
    proposal = base                              KEEP
    proposal > base: over its limit (NEGATIVE)   HOLD
                     a cut in the cool-down      KEEP
                     otherwise                   RAISE
    proposal < base: deeper than the cooling-off
                     percent, or available < 0
                     after it, or NEGATIVE       HOLD, announced          (pending CREATE)
                     otherwise                   CUT

Reason codes: a cut carries the scorecard's reasons (what pulled the score down), plus
REGIONAL_POLICY when the multiplier deepened it; a cut that the multiplier alone caused
(the proposal without it would not cut) is of kind REGIONAL_POLICY with reason
REGIONAL_POLICY; a cut never goes without a reason (RESCORE when nothing else applies).
A raise says GOOD_HISTORY. KEEP and HOLD keep the scorecard's reasons, for the record.

Campaigns: an ACTIVE account that is not cut and scores at least the campaign's minimum
gets the campaign's temporary limit once (one grant per account and campaign name) while
the campaign runs.
"""

from datetime import datetime
from decimal import Decimal

from django.db import connection

from credit.choices import LimitChangeKind
from credit.formulas import available_sql, cut_needs_notice_sql, effective_limit_sql, sql_literal
from credit.risk.features import FEATURES_SQL, feature_params, features_session
from credit.risk.models import RescoringRun, SeasonalCampaign
from credit.risk.policy import band_limit_sql, multipliers_cte, proposed_limit_sql
from credit.risk.scorecard import FEATURES, ScoringModel

DECISION_COLUMNS = (
    "run_id",
    "account_id",
    "account_status",
    *FEATURES,
    "province_code",
    "score",
    "reason_codes",
    "multiplier",
    "old_base_limit",
    "old_effective_limit",
    "outstanding_principal",
    "proposed_limit",
    "new_base_limit",
    "action",
    "kind",
    "pending_action",
    "pending_id",
    "campaign_id",
    "campaign_amount",
)


def campaigns_running(run: RescoringRun, now: datetime) -> bool:
    return SeasonalCampaign.objects.filter(
        policy_id=run.policy_id, starts_at__lte=now, ends_at__gt=now
    ).exists()


def decision_sql(run: RescoringRun, model: ScoringModel, *, with_campaigns: bool) -> str:
    # `scored` and `targets` are MATERIALIZED: PostgreSQL would otherwise inline them and
    # re-expand the score and proposal expressions at every later reference (hundreds of µs
    # per account); the later steps are cheap to inline.
    policy = run.policy
    score_expr, reasons_expr = model.score_sql("f")
    band = band_limit_sql(policy, "s.score")
    proposed = proposed_limit_sql(
        policy, band=band, multiplier="COALESCE(mult.m, 1)", base="s.base_limit"
    )
    proposed_plain = proposed_limit_sql(policy, band=band, multiplier="1", base="s.base_limit")
    new_effective = effective_limit_sql("t", "t.proposed")
    cooling = f"{Decimal(run.cooling_off_percent):f}"
    # A staff cut announced in advance is the staff's decision, not the score's: the run
    # confirms it once due (unless an appeal holds it), whatever the score says.
    staff_cut = f"p.kind = {sql_literal(LimitChangeKind.ANNOUNCED_CUT)}"
    campaign_join = (
        """
      LEFT JOIN LATERAL (
            SELECT c.id, c.amount
              FROM risk_seasonalcampaign c
             WHERE c.policy_id = %(policy_id)s AND c.starts_at <= %(now)s AND c.ends_at > %(now)s
               AND d.score >= c.min_score
               AND NOT EXISTS (SELECT 1 FROM credit_temporarylimitgrant g
                                WHERE g.account_id = d.id AND g.campaign = c.name)
             ORDER BY c.starts_at, c.id
             LIMIT 1
      ) camp ON d.status = 'ACTIVE' AND d.action IN ('RAISE', 'KEEP')"""
        if with_campaigns
        else " LEFT JOIN (SELECT NULL::bigint AS id, NULL::numeric AS amount) camp ON FALSE"
    )
    feature_columns = ", ".join(f"d.{name}" for name in FEATURES)
    return f"""
WITH {FEATURES_SQL},
scored AS MATERIALIZED (
    SELECT f.*, {score_expr} AS score, {reasons_expr} AS score_reasons FROM feat f
), {multipliers_cte()},
targets AS MATERIALIZED (
    SELECT s.*, COALESCE(mult.m, 1) AS multiplier,
           {proposed} AS proposed, {proposed_plain} AS proposed_plain
      FROM scored s LEFT JOIN mult ON mult.province_code = s.province_code
), judged AS (
    SELECT t.*, p.id AS pending_id, p.new_base_limit AS pending_limit,
           p.reason_codes AS pending_reasons, p.kind AS pending_kind,
           {cut_needs_notice_sql("t", "t.proposed", available_sql("t", new_effective), cooling)}
               AS needs_cooling,
           CASE
               WHEN t.status = 'FROZEN' THEN 'NONE'
               WHEN p.id IS NOT NULL AND t.base_limit <> p.old_base_limit THEN 'CANCEL'
               WHEN p.id IS NOT NULL AND (t.proposed <= p.new_base_limit OR {staff_cut})
                    AND p.effective_at <= %(now)s THEN 'CONFIRM'
               WHEN p.id IS NOT NULL AND (t.proposed <= p.new_base_limit OR {staff_cut})
                    THEN 'WAIT'
               WHEN p.id IS NOT NULL THEN 'CANCEL'
               ELSE 'NONE'
           END AS pending_step
      FROM targets t
      LEFT JOIN risk_pendinglimitdecrease p ON p.account_id = t.id AND p.status = 'PENDING'
), decided AS (
    SELECT j.*,
           CASE
               WHEN j.pending_step IN ('CONFIRM', 'WAIT') THEN j.pending_step
               WHEN j.pending_step = 'CANCEL' AND j.needs_cooling THEN 'REPLACE'
               WHEN j.pending_step = 'CANCEL' THEN 'CANCEL'
               WHEN j.status <> 'FROZEN' AND j.needs_cooling THEN 'CREATE'
               ELSE 'NONE'
           END AS pending_action,
           CASE
               WHEN j.status = 'FROZEN' THEN 'HOLD'
               WHEN j.pending_step = 'CONFIRM' THEN 'CUT'
               WHEN j.pending_step = 'WAIT' OR j.needs_cooling THEN 'HOLD'
               WHEN j.proposed = j.base_limit THEN 'KEEP'
               WHEN j.proposed > j.base_limit AND j.status = 'NEGATIVE' THEN 'HOLD'
               WHEN j.proposed > j.base_limit
                    AND j.days_since_cut < %(raise_cooldown_days)s THEN 'KEEP'
               WHEN j.proposed > j.base_limit THEN 'RAISE'
               ELSE 'CUT'
           END AS action,
           (j.proposed < j.base_limit AND j.proposed_plain >= j.base_limit) AS regional_only
      FROM judged j
), d AS (
    SELECT x.*,
           CASE
               WHEN x.pending_action = 'CONFIRM' THEN x.pending_reasons
               WHEN x.regional_only THEN ARRAY['REGIONAL_POLICY']::varchar[]
               WHEN x.proposed < x.base_limit THEN (
                    CASE WHEN cardinality(x.score_reasons) = 0
                              AND x.proposed >= x.proposed_plain
                         THEN ARRAY['RESCORE']
                         ELSE x.score_reasons
                              || CASE WHEN x.proposed < x.proposed_plain
                                      THEN ARRAY['REGIONAL_POLICY'] ELSE ARRAY[]::text[] END
                    END)::varchar[]
               WHEN x.action = 'RAISE' THEN ARRAY['GOOD_HISTORY']::varchar[]
               ELSE x.score_reasons::varchar[]
           END AS decision_reasons,
           CASE
               WHEN x.pending_action = 'CONFIRM' THEN x.pending_kind
               WHEN x.regional_only THEN 'REGIONAL_POLICY'
               ELSE 'RESCORE'
           END AS decision_kind,
           CASE x.action
               WHEN 'RAISE' THEN x.proposed
               WHEN 'CUT' THEN CASE WHEN x.pending_action = 'CONFIRM'
                                    THEN x.pending_limit ELSE x.proposed END
               ELSE x.base_limit
           END AS new_base
      FROM decided x
)
INSERT INTO risk_rescoringdecision ({", ".join(DECISION_COLUMNS)})
SELECT %(run_id)s, d.id, d.status, {feature_columns}, d.province_code, d.score,
       d.decision_reasons, d.multiplier, d.base_limit, d.effective_limit,
       d.outstanding_principal, d.proposed, d.new_base, d.action, d.decision_kind,
       d.pending_action, d.pending_id, camp.id, camp.amount
  FROM d {campaign_join}
"""  # noqa: S608 - SQL built from code constants; values are bound parameters


def chunk_decide(
    *, run: RescoringRun, model: ScoringModel, lo: int, hi: int, now: datetime, with_campaigns: bool
) -> int:
    """Insert the decisions of accounts lo..hi; returns how many (inside a transaction)."""
    params = feature_params(lo=lo, hi=hi, as_of=run.as_of) | {
        "run_id": run.pk,
        "policy_id": run.policy_id,
        "now": now,
        "raise_cooldown_days": run.policy.raise_cooldown_days,
    }
    with connection.cursor() as cursor, features_session(cursor):
        cursor.execute(decision_sql(run, model, with_campaigns=with_campaigns), params)
        return cursor.rowcount
