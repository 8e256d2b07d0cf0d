"""The scorecard: the points table, its reasons, and SQL agreeing with Python."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.reasons import ReasonCode, reason_texts
from credit.risk.scorecard import (
    BASE_POINTS,
    CHARACTERISTICS,
    FEATURES,
    MAX_SCORE,
    MIN_SCORE,
    Scorecard,
)

GOOD = {
    "late_12m": 0,
    "current_dpd": 0,
    "worst_dpd_12m": 0,
    "ontime_12m": 12,
    "utilisation_pct": 10,
    "tenure_months": 30,
    "purchases": 12,
    "recent_flags": 0,
    "cuts_90d": 0,
    "days_since_cut": None,
}


def test_the_best_bands_add_up_to_900_and_the_worst_to_300():
    assert BASE_POINTS + sum(c.best for c in CHARACTERISTICS) == MAX_SCORE
    assert BASE_POINTS + sum(min(b.points for b in c.bands) for c in CHARACTERISTICS) == MIN_SCORE


def test_every_band_table_covers_every_value_once():
    for characteristic in CHARACTERISTICS:
        for value in range(0, 1200):
            matching = [b for b in characteristic.bands if b.contains(value)]
            assert len(matching) == 1, (characteristic.feature, value)


def test_a_spotless_account_scores_900_with_no_reasons():
    result = Scorecard().score(GOOD)
    assert result.score == 900
    assert result.reason_codes == []


def test_reasons_are_the_largest_point_losses_first_at_most_three():
    features = GOOD | {"current_dpd": 40, "late_12m": 2, "utilisation_pct": 95, "purchases": 1}
    result = Scorecard().score(features)
    # Losses: current dpd 140, late 90, utilisation 70, purchases 20 (below the threshold).
    assert result.reason_codes == [
        ReasonCode.CURRENTLY_PAST_DUE,
        ReasonCode.LATE_REPAYMENTS,
        ReasonCode.HIGH_UTILISATION,
    ]
    assert result.score == 900 - 140 - 90 - 70 - 20


def test_every_reason_code_of_the_scorecard_has_texts_in_both_languages():
    from django.utils import translation

    for characteristic in CHARACTERISTICS:
        assert characteristic.reason in ReasonCode.values
        with translation.override("en"):
            english = reason_texts([characteristic.reason])[0]
        assert english and english != characteristic.reason


feature_values = st.fixed_dictionaries(
    {
        "late_12m": st.integers(0, 12),
        "current_dpd": st.integers(0, 400),
        "worst_dpd_12m": st.integers(0, 400),
        "ontime_12m": st.integers(0, 30),
        "utilisation_pct": st.integers(0, 1000),
        "tenure_months": st.integers(0, 120),
        "purchases": st.integers(0, 40),
        "recent_flags": st.integers(0, 5),
        "cuts_90d": st.integers(0, 3),
        "days_since_cut": st.none() | st.integers(0, 365),
    }
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(features=feature_values)
def test_the_sql_scorecard_gives_the_python_score_and_reasons(features):
    model = Scorecard()
    score_sql, reasons_sql = model.score_sql("f")
    columns = ", ".join(f"%({name})s::int AS {name}" for name in FEATURES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {score_sql}, {reasons_sql} FROM (SELECT {columns}) f", features)  # noqa: S608
        score, reasons = cursor.fetchone()
    expected = model.score(features)
    assert score == expected.score
    assert list(reasons) == expected.reason_codes
