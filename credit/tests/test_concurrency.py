"""Concurrency on real PostgreSQL: real threads, each with its own connection, released together.

Invariant 3: however the authorisations interleave, they never together exceed the available
credit; the row lock on the account serialises the check and the update.
"""

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from conftest import shanghai
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import AccountStatus, LimitChangeKind, Purchase, Repayment
from credit.services import InsufficientCredit, limit_set, purchase_authorize
from credit.tests.factories import MerchantFactory
from testkit.credit import launch_fee_schedule, open_account, repay

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)
NOW = shanghai(2026, 3, 10, 10, 0)
N = 12


def race(jobs: list[Callable[[], object]]) -> list[object]:
    """Run the jobs in threads released at once; each result is a value or the exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except Exception as exc:  # the test inspects it
            results[i] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def outcome(result: object) -> str:
    if isinstance(result, Purchase):
        return "ok"
    if isinstance(result, InsufficientCredit):
        return result.code
    raise AssertionError(f"unexpected result: {result!r}")


@pytest.fixture
def setting():
    launch_fee_schedule()
    return MerchantFactory()


@pytest.mark.parametrize("fits", [1, 5, 11])
def test_simultaneous_authorisations_never_exceed_available_credit(setting, fits):
    shop = setting
    account = open_account(base_limit=str(D("100.00") * fits))

    results = race(
        [
            lambda i=i: purchase_authorize(
                account=account,
                merchant=shop,
                amount=D("100.00"),
                term=3,
                idempotency_key=f"order-{i}",
                now=NOW,
            )
            for i in range(N)
        ]
    )

    assert Counter(outcome(r) for r in results) == {
        "ok": fits,
        "insufficient_credit": N - fits,
    }
    account.refresh_from_db()
    assert (account.outstanding_principal, account.available) == (D("100.00") * fits, 0)
    assert Purchase.objects.filter(account=account).count() == fits
    report = ledger_check()
    assert report.ok, report.format()


def test_simultaneous_replays_of_one_key_make_one_purchase(setting):
    shop = setting
    account = open_account()
    results = race(
        [
            lambda: purchase_authorize(
                account=account,
                merchant=shop,
                amount=D("250.00"),
                term=6,
                idempotency_key="same-order",
                now=NOW,
            )
            for _ in range(N)
        ]
    )
    assert {r.pk for r in results if isinstance(r, Purchase)} == {
        Purchase.objects.get(account=account).pk
    }
    assert all(isinstance(r, Purchase) for r in results)
    account.refresh_from_db()
    assert account.outstanding_principal == D("250.00")
    assert ledger_check().ok


def test_purchases_repayments_and_a_limit_cut_racing_leave_status_and_numbers_agreeing(setting):
    shop = setting
    account = open_account(base_limit="1000.00")
    purchase_authorize(
        account=account,
        merchant=shop,
        amount=D("600.00"),
        term=1,
        idempotency_key="first",
        now=NOW,
    )
    jobs: list[Callable[[], object]] = [
        lambda i=i: purchase_authorize(
            account=account,
            merchant=shop,
            amount=D("50.00"),
            term=1,
            idempotency_key=f"buy-{i}",
            now=NOW,
        )
        for i in range(6)
    ]
    jobs += [
        lambda i=i: repay(account, "40.00", idempotency_key=f"pay-{i}", now=NOW) for i in range(4)
    ]
    jobs.append(
        lambda: limit_set(
            account=account,
            new_base_limit=D("500.00"),
            kind=LimitChangeKind.RESCORE,
            reason_codes=[ReasonCode.HIGH_UTILISATION],
            run_id=1,
            now=NOW,
        )
    )
    results = race(jobs)

    unexpected = [
        r
        for r in results
        if isinstance(r, Exception)
        and getattr(r, "code", None)
        not in {
            "insufficient_credit",
            "account_negative",
        }
    ]
    assert unexpected == []
    assert Repayment.objects.filter(account=account).count() == 4
    account.refresh_from_db()
    assert (account.status == AccountStatus.NEGATIVE) == (account.available < 0)
    report = ledger_check()
    assert report.ok, report.format()
