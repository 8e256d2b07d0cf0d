"""The scorecard: points per feature band → a score from 300 to 900, and the reasons it lost.

A transparent points table, the kind a credit officer can read aloud to a customer. Every
account starts at 600 points; each characteristic adds or removes the points of the band its
feature falls in. The best band of every characteristic adds up to +300 (a 900 score), the
worst to −300 (a 300 score), so the clamp to 300–900 is only a guard.

| characteristic                         | bands → points                                   | reason code       |
|----------------------------------------|--------------------------------------------------|-------------------|
| late repayments, 12 months             | 0 → +60, 1 → +20, 2–3 → −30, ≥4 → −70            | LATE_REPAYMENTS   |
| days past due now                      | 0 → +50, 1–7 → −20, 8–30 → −60, >30 → −90        | CURRENTLY_PAST_DUE|
| worst days past due, 12 months         | 0 → +40, 1–15 → +10, 16–60 → −30, >60 → −60      | PAST_DUE_HISTORY  |
| repayments on time, 12 months          | ≥12 → +40, 6–11 → +25, 1–5 → +10, 0 → 0          | FEW_REPAYMENTS    |
| utilisation (principal / limit, %)     | <30 → +40, 30–69 → +20, 70–89 → 0, ≥90 → −30     | HIGH_UTILISATION  |
| tenure (whole months)                  | ≥24 → +30, 12–23 → +20, 6–11 → +10, <6 → −10     | SHORT_HISTORY     |
| purchases (not fully refunded)         | ≥10 → +20, 3–9 → +10, 1–2 → 0, 0 → −10           | FEW_PURCHASES     |
| open or confirmed risk flags, 90 days  | 0 → +20, 1 → −20, ≥2 → −30                       | RISK_FLAG         |

Reason codes ("what pulled it down"): for each characteristic, the points lost against its
best band; those losing at least `REASON_MIN_LOSS` points, largest loss first (ties in table
order), the first three (`RISK_REASONS_SHOWN`). This is the adverse-action method of
lenders' scorecards: the reasons are exactly the points the customer could win back.

Limit history (cuts in the last 90 days, days since the last cut) is a feature but scores no
points: a cut lowering the next score would feed on itself. The policy uses it instead, as a
raise cool-down (see `RiskPolicy.raise_cooldown_days`).

The model sits behind `ScoringModel`: `score_sql()` gives SQL expressions over the feature
columns (so a million accounts score inside PostgreSQL) and `score()` the same in Python
(for one account: explanations, tests, the per-account baseline). A trained model can
replace the scorecard by implementing both; `tests/test_scorecard.py` proves the two agree.
"""

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

from core.reasons import ReasonCode

BASE_POINTS = 600
MIN_SCORE, MAX_SCORE = 300, 900
REASON_MIN_LOSS = 25

FEATURES = (
    "late_12m",
    "current_dpd",
    "worst_dpd_12m",
    "ontime_12m",
    "utilisation_pct",
    "tenure_months",
    "purchases",
    "recent_flags",
    "cuts_90d",
    "days_since_cut",
)


@dataclass(frozen=True)
class Band:
    """Feature values from `low` to `high` inclusive (None: unbounded) earn `points`."""

    low: int | None
    high: int | None
    points: int

    def contains(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def sql_condition(self, column: str) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{column} >= {int(self.low)}")
        if self.high is not None:
            parts.append(f"{column} <= {int(self.high)}")
        return " AND ".join(parts) or "TRUE"


@dataclass(frozen=True)
class Characteristic:
    feature: str
    label: str
    reason: str
    bands: tuple[Band, ...]

    @property
    def best(self) -> int:
        return max(b.points for b in self.bands)

    def points(self, value: int) -> int:
        for band in self.bands:
            if band.contains(value):
                return band.points
        raise ValueError(f"{self.feature}={value} falls in no band")

    def points_sql(self, alias: str) -> str:
        column = f"{alias}.{self.feature}"
        whens = " ".join(
            f"WHEN {band.sql_condition(column)} THEN {int(band.points)}" for band in self.bands
        )
        return f"(CASE {whens} END)"


@dataclass(frozen=True)
class Score:
    score: int
    points: dict[str, int] = field(default_factory=dict)
    reason_codes: list[str] = field(default_factory=list)


class ScoringModel(Protocol):
    """What the rescoring run needs from a model; the scorecard is the first implementation."""

    name: str
    version: str

    def score_sql(self, alias: str) -> tuple[str, str]:
        """(score expression, reason-codes text[] expression) over the feature columns."""

    def score(self, features: dict[str, int]) -> Score:
        """The same, in Python, for one account."""


def _b(low, high, points) -> Band:
    return Band(low, high, points)


CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic(
        "late_12m",
        "late repayments, 12 months",
        ReasonCode.LATE_REPAYMENTS,
        (_b(None, 0, 60), _b(1, 1, 20), _b(2, 3, -30), _b(4, None, -70)),
    ),
    Characteristic(
        "current_dpd",
        "days past due now",
        ReasonCode.CURRENTLY_PAST_DUE,
        (_b(None, 0, 50), _b(1, 7, -20), _b(8, 30, -60), _b(31, None, -90)),
    ),
    Characteristic(
        "worst_dpd_12m",
        "worst days past due, 12 months",
        ReasonCode.PAST_DUE_HISTORY,
        (_b(None, 0, 40), _b(1, 15, 10), _b(16, 60, -30), _b(61, None, -60)),
    ),
    Characteristic(
        "ontime_12m",
        "repayments on time, 12 months",
        ReasonCode.FEW_REPAYMENTS,
        (_b(12, None, 40), _b(6, 11, 25), _b(1, 5, 10), _b(None, 0, 0)),
    ),
    Characteristic(
        "utilisation_pct",
        "utilisation, %",
        ReasonCode.HIGH_UTILISATION,
        (_b(None, 29, 40), _b(30, 69, 20), _b(70, 89, 0), _b(90, None, -30)),
    ),
    Characteristic(
        "tenure_months",
        "tenure, months",
        ReasonCode.SHORT_HISTORY,
        (_b(24, None, 30), _b(12, 23, 20), _b(6, 11, 10), _b(None, 5, -10)),
    ),
    Characteristic(
        "purchases",
        "purchases",
        ReasonCode.FEW_PURCHASES,
        (_b(10, None, 20), _b(3, 9, 10), _b(1, 2, 0), _b(None, 0, -10)),
    ),
    Characteristic(
        "recent_flags",
        "risk flags, 90 days",
        ReasonCode.RISK_FLAG,
        (_b(None, 0, 20), _b(1, 1, -20), _b(2, None, -30)),
    ),
)


class Scorecard:
    """The points table above as a `ScoringModel`."""

    name = "scorecard"
    version = "1"

    def __init__(self, characteristics: tuple[Characteristic, ...] = CHARACTERISTICS):
        self.characteristics = characteristics

    def score_sql(self, alias: str) -> tuple[str, str]:
        points = [c.points_sql(alias) for c in self.characteristics]
        total = " + ".join(points)
        score = f"LEAST({MAX_SCORE}, GREATEST({MIN_SCORE}, {BASE_POINTS} + {total}))"
        losses = ", ".join(
            f"{c.best} - {p}" for c, p in zip(self.characteristics, points, strict=True)
        )
        codes = ", ".join(f"'{c.reason}'" for c in self.characteristics)
        shown = settings.RISK_REASONS_SHOWN
        shown_sql = f"WHERE r.loss >= {REASON_MIN_LOSS} ORDER BY r.loss DESC, r.ord LIMIT {shown}"
        reasons = f"ARRAY(SELECT r.code FROM unnest(ARRAY[{losses}], ARRAY[{codes}]::text[]) WITH ORDINALITY AS r(loss, code, ord) {shown_sql})"  # noqa: S608 - from the constant table above
        return score, reasons

    def score(self, features: dict[str, int]) -> Score:
        points = {c.feature: c.points(int(features[c.feature])) for c in self.characteristics}
        total = BASE_POINTS + sum(points.values())
        losses = [
            (c.best - points[c.feature], order, c.reason)
            for order, c in enumerate(self.characteristics)
        ]
        ranked = sorted((loss for loss in losses if loss[0] >= REASON_MIN_LOSS), key=_rank)
        shown = settings.RISK_REASONS_SHOWN
        return Score(
            score=min(MAX_SCORE, max(MIN_SCORE, total)),
            points=points,
            reason_codes=[str(code) for _loss, _order, code in ranked[:shown]],
        )

    def table(self) -> list[dict]:
        """The points table, for the admin and docs/risk.md."""
        return [
            {
                "feature": c.feature,
                "label": c.label,
                "reason": str(c.reason),
                "bands": [(b.low, b.high, b.points) for b in c.bands],
            }
            for c in self.characteristics
        ]


def _rank(loss: tuple[int, int, str]) -> tuple[int, int]:
    return (-loss[0], loss[1])


def scoring_model() -> ScoringModel:
    """The model runs use (one place to swap in another)."""
    return Scorecard()
