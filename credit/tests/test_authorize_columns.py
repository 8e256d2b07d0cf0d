"""The authorisation statement: every INSERT writes every column the database does not fill
itself; the rows come back through `Model.from_db`; the request is checked and priced once."""

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import shanghai
from credit.models import FeeSchedule, FeeScheduleTerm, Installment, InstallmentPlan, Purchase
from credit.services import fee_schedule_activate, purchase_authorize, purchase_quote
from credit.services import purchases as authorisation
from credit.tests.factories import MerchantFactory
from testkit.credit import LAUNCH_RATES, buy, key, open_account

D = Decimal
NOW = shanghai(2026, 3, 10, 10, 0)
INSERTED = {
    "credit_purchase",
    "credit_installmentplan",
    "credit_installment",
    "credit_journalentry",
    "credit_journalline",
}


def insert_columns(sql: str) -> dict[str, list[str]]:
    """Each table the statement inserts into, with its column list."""
    return {
        table: [column.strip() for column in columns.split(",")]
        for table, columns in re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
    }


def column_mismatches(sql: str) -> dict[str, tuple[set[str], set[str]]]:
    """Per inserted table, (columns missing, columns that should not be written): a column
    left out without a `db_default` would silently get the database's default or NULL."""
    models = {model._meta.db_table: model for model in apps.get_models()}
    mismatches = {}
    for table, listed in insert_columns(sql).items():
        expected = {
            f.column
            for f in models[table]._meta.concrete_fields
            if not (f.primary_key or f.has_db_default())
        }
        if set(listed) != expected:
            mismatches[table] = (expected - set(listed), set(listed) - expected)
    return mismatches


def test_every_insert_of_the_authorisation_writes_every_column_without_a_database_default():
    assert set(insert_columns(authorisation._AUTHORIZE)) == INSERTED
    assert column_mismatches(authorisation._AUTHORIZE) == {}


@pytest.mark.parametrize(
    ("plant", "caught"),
    [
        # A column without a db_default left out: the database would fill it, not Python.
        ((", days_past_due", ""), {"credit_installment": ({"days_past_due"}, set())}),
        # A db_default column written: the database owns its value.
        (
            ("(plan_id,", "(plan_id, fee_returned,"),
            {"credit_installment": (set(), {"fee_returned"})},
        ),
    ],
)
def test_a_planted_column_list_mistake_is_caught(plant, caught):
    planted = authorisation._AUTHORIZE.replace(*plant, 1)
    assert planted != authorisation._AUTHORIZE
    assert column_mismatches(planted) == caught


def test_a_column_left_to_a_callable_python_default_is_refused(monkeypatch):
    # Written into the statement once, a callable's value would be the same for every purchase.
    days_past_due = Installment._meta.get_field("days_past_due")
    assert authorisation._default_sql(days_past_due) == "0"
    monkeypatch.setattr(days_past_due, "default", lambda: 0)
    with pytest.raises(ImproperlyConfigured, match="days_past_due"):
        authorisation._default_sql(days_past_due)


@pytest.mark.django_db
def test_the_purchase_and_plan_come_back_as_saved_rows_with_their_related_objects_in_hand():
    account = open_account(due_day=10)
    shop = MerchantFactory()

    purchase = purchase_authorize(
        account=account, merchant=shop, amount="900.00", term=3, idempotency_key=key(), now=NOW
    )

    for made, model in ((purchase, Purchase), (purchase.plan, InstallmentPlan)):
        assert (made._state.adding, made._state.db) == (False, "default")
        stored = model.objects.get(pk=made.pk)
        for f in model._meta.concrete_fields:
            assert getattr(made, f.attname) == getattr(stored, f.attname), f.name
    # The account may be a re-locked copy (a retry after a stale fee schedule): equal, in hand.
    with CaptureQueriesContext(connection) as queries:
        assert purchase.account == account
        assert purchase.merchant == shop
        assert purchase.plan.purchase is purchase
        assert purchase.plan.account == account
        assert purchase.plan.fee_schedule.is_active
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_purchase_priced_with_a_stale_fee_schedule_checks_its_amount_once(monkeypatch):
    buy(open_account(), "100.00", now=NOW)  # this process now holds a copy of the schedule
    newer = FeeSchedule.objects.create(version=2, name="v2", created_at=NOW)
    FeeScheduleTerm.objects.bulk_create(
        FeeScheduleTerm(schedule=newer, term_months=term, monthly_fee_rate=D(rate))
        for term, rate in {**LAUNCH_RATES, 3: "0.006000"}.items()
    )
    fee_schedule_activate(schedule=newer, now=NOW)
    checked = []
    validate = authorisation.amount_validate
    monkeypatch.setattr(
        authorisation, "amount_validate", lambda raw: checked.append(raw) or validate(raw)
    )

    purchase = buy(open_account(), "1000.00", term=3, now=NOW)

    assert purchase.plan.fee_schedule == newer
    assert checked == [D("1000.00")]


@pytest.mark.django_db
def test_an_order_is_priced_once_until_its_fee_schedule_or_due_day_changes(monkeypatch):
    account = open_account(due_day=10)
    schedule = FeeSchedule.objects.get(is_active=True)
    priced = []
    build = authorisation.build_quote
    monkeypatch.setattr(
        authorisation, "build_quote", lambda **kwargs: priced.append(kwargs) or build(**kwargs)
    )
    order = authorisation._Order(
        merchant=MerchantFactory(),
        amount=D("600.00"),
        term=3,
        idempotency_key=key(),
        now=NOW,
        description="",
        merchant_reference="",
    )

    first = order.quote(account=account, schedule=schedule)
    assert order.quote(account=account, schedule=schedule) is first
    assert len(priced) == 1
    account.due_day = 25
    assert order.quote(account=account, schedule=schedule) == purchase_quote(
        account=account, amount="600.00", term=3, now=NOW
    )
    assert [kwargs["due_day"] for kwargs in priced] == [10, 25, 25]
