"""Idempotency with Stripe semantics, isolation between customers, and concurrent
authorisations, all through the HTTP API on the real PostgreSQL."""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from credit.models import CreditAccount, IdempotencyRecord, Purchase, Repayment
from credit.services.idempotency import idempotency_records_purge
from credit.tasks import idempotency_records_purge_task
from credit.tests.apikit import customer_client, new_key, shop
from testkit.credit import buy, launch_fee_schedule, open_account, row_counts

D = Decimal


def purchase(api, merchant, amount="100.00", term=3, key=None):
    return api.post(
        "/api/v1/purchases/",
        {"merchant_id": merchant.pk, "amount": amount, "term": term},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or new_key(),
    )


@pytest.mark.django_db
def test_the_same_key_and_payload_returns_the_same_status_and_body_and_takes_effect_once():
    merchant, _key = shop()
    account = open_account("1000.00")
    api = customer_client(account.customer)
    first = purchase(api, merchant, key="order-1")
    second = purchase(api, merchant, key="order-1")
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert Purchase.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.outstanding_principal == D("100.00")


@pytest.mark.django_db
def test_the_same_key_with_a_different_payload_is_refused_with_422_and_changes_nothing():
    merchant, _key = shop()
    account = open_account("1000.00")
    api = customer_client(account.customer)
    purchase(api, merchant, "100.00", key="order-1")
    before = row_counts()
    response = purchase(api, merchant, "100.01", key="order-1")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert row_counts() == before


@pytest.mark.django_db
def test_keys_are_scoped_to_their_caller():
    merchant, _key = shop()
    one, two = open_account("1000.00"), open_account("1000.00")
    assert purchase(customer_client(one.customer), merchant, key="same").status_code == 201
    assert purchase(customer_client(two.customer), merchant, key="same").status_code == 201
    assert Purchase.objects.count() == 2


@pytest.mark.django_db
def test_repayments_replay_too():
    merchant, _key = shop()
    account = open_account("1000.00")
    buy(account, "300.00", merchant=merchant)
    api = customer_client(account.customer)
    answers = [
        api.post("/api/v1/repayments/", {"amount": "50"}, format="json", HTTP_IDEMPOTENCY_KEY="p")
        for _ in range(3)
    ]
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert Repayment.objects.filter(account=account).count() == 1


@pytest.mark.django_db
def test_a_refused_request_is_not_remembered_so_the_key_works_once_the_cause_is_gone():
    merchant, _key = shop()
    account = open_account("50.00")
    api = customer_client(account.customer)
    refused = purchase(api, merchant, "100.00", key="k")
    assert refused.json()["code"] == "insufficient_credit"
    assert IdempotencyRecord.objects.count() == 0
    from credit.services import limit_set

    limit_set(
        account=account,
        new_base_limit=D("500.00"),
        kind="RESCORE",
        reason_codes=["GOOD_HISTORY"],
        now=timezone.now(),
    )
    assert purchase(api, merchant, "100.00", key="k").status_code == 201


@pytest.mark.django_db
def test_keys_are_kept_at_least_24_hours_and_purged_after_the_retention(settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1  # a misconfiguration below Stripe's day
    now = timezone.now()
    for age_hours, key in ((23, "young"), (25, "old")):
        IdempotencyRecord.objects.create(
            scope="customer:1",
            key=key,
            request_fingerprint="f",
            response_status=201,
            response_body={},
            created_at=now - timedelta(hours=age_hours),
        )
    assert idempotency_records_purge(now=now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_sent_while_the_first_is_still_in_flight_gets_409_at_once():
    launch_fee_schedule()
    merchant, _key = shop()
    account = open_account("1000.00")
    api = customer_client(account.customer)
    row_locked, release = threading.Event(), threading.Event()
    answers = {}

    def hold_the_account_row():
        with transaction.atomic():
            CreditAccount.objects.select_for_update().get(pk=account.pk)
            row_locked.set()
            release.wait(20)
        connection.close()

    def first_request():
        answers["first"] = purchase(api, merchant, key="slow")
        connection.close()

    holder = threading.Thread(target=hold_the_account_row)
    holder.start()
    assert row_locked.wait(10)
    first = threading.Thread(target=first_request)
    first.start()
    deadline = time.monotonic() + 10
    while _advisory_locks() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        started = time.monotonic()
        duplicate = purchase(api, merchant, key="slow")
        assert time.monotonic() - started < 2  # refused at once, not after the lock
    finally:
        release.set()
        holder.join(20)
        first.join(20)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency_key_in_flight"
    assert answers["first"].status_code == 201
    replay = purchase(api, merchant, key="slow")
    assert (replay.status_code, replay.content) == (201, answers["first"].content)
    assert Purchase.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_authorisations_that_fit_k_times_let_exactly_k_through():
    launch_fee_schedule()
    merchant, _key = shop()
    account = open_account("500.00")  # fits 5 purchases of 100
    attempts = 12
    answers = []
    barrier = threading.Barrier(attempts)

    def attempt():
        api = customer_client(account.customer)
        barrier.wait(10)
        answers.append(purchase(api, merchant, "100.00", term=1))
        connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [409] * 7
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"insufficient_credit"}
    account.refresh_from_db()
    assert account.outstanding_principal == D("500.00")
    assert account.available == D("0.00")
    assert Purchase.objects.filter(account=account).count() == 5


@pytest.mark.django_db
def test_a_customer_can_never_read_or_act_on_another_customers_rows():
    merchant, _key = shop()
    mine = open_account("1000.00")
    theirs = open_account("1000.00")
    their_purchase = buy(theirs, "300.00", merchant=merchant, term=3)
    from credit.services import repayment_apply

    their_repayment = repayment_apply(
        account=theirs, amount=D("10.00"), idempotency_key="t", now=timezone.now()
    )
    api = customer_client(mine.customer)
    before = row_counts()
    plan_id = their_purchase.plan.pk
    for url in (
        f"/api/v1/purchases/{their_purchase.pk}/",
        f"/api/v1/plans/{plan_id}/",
        f"/api/v1/plans/{plan_id}/payoff/",
        f"/api/v1/repayments/{their_repayment.pk}/",
    ):
        response = api.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), url
    response = api.post(f"/api/v1/plans/{plan_id}/payoff/", HTTP_IDEMPOTENCY_KEY="steal")
    assert response.status_code == 404
    for url in ("/api/v1/purchases/", "/api/v1/plans/", "/api/v1/installments/"):
        assert api.get(url).json()["count"] == 0, url
    assert api.get("/api/v1/repayments/").json()["count"] == 0
    assert row_counts() == before


@pytest.mark.django_db
def test_the_purge_runs_nightly_through_celery_beat():
    # The migration registered it; running its step again (as a database reused after a
    # transactional test's flush needs) finds the same task, not a second one.
    import_module("credit.migrations.0005_idempotency_purge_schedule").register(apps, None)
    task = PeriodicTask.objects.get(task="credit.idempotency_records_purge")
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("3", "15")
    assert idempotency_records_purge_task.apply().get() == 0
