"""Features, set-based: computed from real histories (purchases and repayments through the
credit services), reading due dates, paid dates and statuses directly."""

from datetime import date

import pytest

from conftest import shanghai
from core.reasons import ReasonCode
from credit.models import CreditAccount, LimitChangeKind
from credit.risk.features import account_features
from credit.risk.models import (
    ChallengeStatus,
    FlagStatus,
    RiskFlag,
    RuleCode,
    VerificationChallenge,
)
from credit.risk.tests.factories import OPENED_AT
from credit.risk.verification import verification_open
from credit.services import limit_set
from testkit.credit import buy, open_account, repay

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Opened 2025-01-06 (due day 10). 1 200 over 3 months bought 2025-06-01: due 07-10
    (paid 07-09), 08-10 (paid 08-20, ten days late), 09-10 (paid that day). 3 000 over 3
    months bought 2026-01-01: due 02-10, 03-10, 04-10, nothing repaid."""
    account = open_account(now=OPENED_AT)
    buy(account, "1200.00", now=shanghai(2025, 6, 1, 12))
    repay(account, "409.60", now=shanghai(2025, 7, 9, 12))
    repay(account, "409.60", now=shanghai(2025, 8, 20, 12))
    repay(account, "409.60", now=shanghai(2025, 9, 10, 20))
    buy(account, "3000.00", now=shanghai(2026, 1, 1, 12))
    return account


def test_features_count_on_time_and_late_repayments_and_days_past_due(history):
    features = account_features(account_id=history.pk, as_of=date(2026, 3, 10))
    assert features == {
        "province_code": "31",
        "late_12m": 2,  # 2025-08-10 paid late, 2026-02-10 still open
        "ontime_12m": 2,  # 2025-07-10 and 2025-09-10 (paid on the due date counts)
        "current_dpd": 28,  # since 2026-02-10; 03-10 is due today, not late
        "worst_dpd_12m": 28,
        "utilisation_pct": 30,  # 3 000 of 10 000
        "tenure_months": 14,
        "purchases": 2,
        "recent_flags": 0,
        "cuts_90d": 0,
        "days_since_cut": None,
    }


def test_a_back_dated_view_counts_a_later_repayment_as_unpaid(history):
    features = account_features(account_id=history.pk, as_of=date(2025, 8, 15))
    assert features["late_12m"] == 1
    assert features["current_dpd"] == 5
    assert features["ontime_12m"] == 1
    assert features["purchases"] == 1


def test_recent_flags_count_unless_cleared_or_older_than_90_days(history):
    def flag(status, at):
        f = RiskFlag.objects.create(
            rule=RuleCode.SHARED_IP,
            subject=f"ip:10.0.0.{RiskFlag.objects.count()}",
            explanation="x",
            status=status,
            created_at=at,
            updated_at=at,
        )
        f.accounts.add(history)

    flag(FlagStatus.OPEN, shanghai(2026, 3, 1))
    flag(FlagStatus.CONFIRMED, shanghai(2026, 2, 1))
    flag(FlagStatus.CLEARED, shanghai(2026, 3, 2))
    flag(FlagStatus.OPEN, shanghai(2025, 11, 1))  # more than 90 days before
    assert account_features(account_id=history.pk, as_of=date(2026, 3, 10))["recent_flags"] == 2


def test_an_open_flag_the_customer_answered_by_verifying_does_not_count(history):
    at = shanghai(2026, 3, 1)
    flag = RiskFlag.objects.create(
        rule=RuleCode.SHARED_IP,
        subject="ip:10.0.0.9",
        explanation="x",
        created_at=at,
        updated_at=at,
    )
    flag.accounts.add(history)
    challenge = verification_open(account=history, flag=flag, now=at)
    assert account_features(account_id=history.pk, as_of=date(2026, 3, 10))["recent_flags"] == 1
    VerificationChallenge.objects.filter(pk=challenge.pk).update(
        status=ChallengeStatus.PASSED, closed_at=shanghai(2026, 3, 2)
    )
    # As the service closes it: the purchase maximum goes with it (the database checks).
    CreditAccount.objects.filter(pk=history.pk).update(verification_purchase_max=None)
    assert account_features(account_id=history.pk, as_of=date(2026, 3, 10))["recent_flags"] == 0
    # As of the day before it was passed, it still counted.
    assert account_features(account_id=history.pk, as_of=date(2026, 3, 1))["recent_flags"] == 1


def test_limit_history_counts_cuts_of_the_last_90_days(history):
    limit_set(
        account=history,
        new_base_limit="9000.00",
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.LATE_REPAYMENTS],
        now=shanghai(2026, 2, 20, 2),
        run_id=1,
    )
    limit_set(
        account=history,
        new_base_limit="9500.00",
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.GOOD_HISTORY],
        now=shanghai(2026, 3, 1, 2),
        run_id=2,
    )
    features = account_features(account_id=history.pk, as_of=date(2026, 3, 10))
    assert features["cuts_90d"] == 1  # the raise is not a cut
    assert features["days_since_cut"] == 18


def test_a_new_account_without_purchases_has_zero_features():
    account = open_account(now=shanghai(2026, 1, 20, 9))
    features = account_features(account_id=account.pk, as_of=date(2026, 3, 10))
    assert features["tenure_months"] == 1
    assert features["purchases"] == features["late_12m"] == features["ontime_12m"] == 0
    assert features["utilisation_pct"] == 0


def test_a_repayment_just_after_local_midnight_counts_late_whatever_the_utc_date():
    """00:30 on 11 September in Shanghai is still 10 September in UTC: late by local date."""
    account = open_account(now=OPENED_AT)
    buy(account, "1200.00", now=shanghai(2025, 8, 1, 12), term=1)  # due 2025-09-10
    repay(account, "1200.00", now=shanghai(2025, 9, 11, 0, 30))
    features = account_features(account_id=account.pk, as_of=date(2026, 3, 10))
    assert (features["late_12m"], features["ontime_12m"], features["worst_dpd_12m"]) == (1, 0, 1)
