"""The risk demo data: a customer asked to verify by a shared-IP rule, not frozen."""

import pytest

from accounts.demo import seed as seed_accounts
from conftest import shanghai
from credit.models import AccountStatus, CreditAccount
from credit.risk.demo import PHONE, seed
from credit.risk.models import ChallengeStatus, VerificationChallenge
from testkit.credit import row_counts

pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 11, 25, 18, 30)


def test_the_demo_customer_is_asked_to_verify_and_seeding_twice_changes_nothing():
    seed_accounts(now=NOW)
    (login,) = seed(now=NOW)
    assert login.phone == PHONE and "/credit/verify/" in login.note
    account = CreditAccount.objects.get(customer__phone=f"+86{PHONE}")
    assert account.status == AccountStatus.ACTIVE
    challenge = VerificationChallenge.objects.get(account=account)
    assert challenge.status == ChallengeStatus.OPEN
    before = row_counts()
    seed(now=NOW)
    assert row_counts() == before
