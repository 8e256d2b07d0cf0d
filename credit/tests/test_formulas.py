"""Parity of credit.formulas: for hypothesis-generated accounts and installments, the Python
function, the ORM expression and the SQL fragment of each rule give the same answer, and the
CHECK constraint built from invariant 2 refuses exactly the states the formula forbids.

Rows are written with one raw UPDATE … FROM (VALUES …) RETURNING the SQL fragments, then read
back once through the ORM with the expressions annotated; the model properties (which call
the Python functions) are compared with both.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from credit import formulas
from credit.models import AccountStatus, CreditAccount, Installment, InstallmentStatus
from testkit.credit import OPENED_AT, buy, open_account

D = Decimal
DB = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ROWS = 4  # accounts (and installments) rewritten per example


def cents(high: int = 2_000_000):
    return st.integers(min_value=0, max_value=high).map(lambda n: D(n) / 100)


@st.composite
def account_numbers(draw) -> dict:
    """Limits and debt; the debt sometimes exactly the effective limit (available = 0)."""
    base, temporary = draw(cents()), draw(cents(300_000))
    cap = draw(st.none() | cents())
    effective = formulas.effective_limit(base=base, temporary=temporary, cap=cap)
    outstanding = draw(st.just(effective) | cents())
    return {"base": base, "temporary": temporary, "cap": cap, "outstanding": outstanding}


@st.composite
def accounts(draw) -> dict:
    """An account state the database accepts: its status agrees with its numbers."""
    numbers = draw(account_numbers())
    effective = formulas.effective_limit(
        base=numbers["base"], temporary=numbers["temporary"], cap=numbers["cap"]
    )
    below_zero = effective - numbers["outstanding"] < 0
    statuses = [AccountStatus.FROZEN]
    statuses += (
        [AccountStatus.NEGATIVE] if below_zero else [AccountStatus.ACTIVE, AccountStatus.RESTORED]
    )
    if numbers["outstanding"] == 0:
        statuses.append(AccountStatus.CLOSED)
    # Replacement columns, as the set-based statements pass (a proposed base, a grant's end).
    alt_base, alt_temporary = draw(cents()), draw(cents(300_000))
    return numbers | {
        "status": draw(st.sampled_from(statuses)),
        "alt_base": alt_base,
        "alt_temporary": alt_temporary,
    }


@st.composite
def installments(draw) -> dict:
    """Any amounts the installment CHECK constraints accept, in any status."""
    principal, fee, penalty = draw(cents()), draw(cents(50_000)), draw(cents(50_000))
    refunded = draw(cents(int(principal * 100)))
    principal_paid = draw(cents(int((principal - refunded) * 100)))
    fee_waived = draw(cents(int(fee * 100)))
    fee_paid = draw(cents(int((fee - fee_waived) * 100)))
    penalty_waived = draw(cents(int(penalty * 100)))
    penalty_paid = draw(cents(int((penalty - penalty_waived) * 100)))
    return {
        "principal": principal,
        "principal_refunded": refunded,
        "principal_paid": principal_paid,
        "fee": fee,
        "fee_waived": fee_waived,
        "fee_paid": fee_paid,
        "penalty": penalty,
        "penalty_waived": penalty_waived,
        "penalty_paid": penalty_paid,
        "status": draw(st.sampled_from(InstallmentStatus.values)),
    }


def _values(rows: list[tuple], types: tuple[str, ...]) -> tuple[str, list]:
    """A VALUES list with typed placeholders, and its flattened parameters."""
    row = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
    return ", ".join([row] * len(rows)), [value for values in rows for value in values]


@pytest.fixture
def account_ids(db):
    return [open_account().pk for _ in range(ROWS)]


@pytest.fixture
def installment_ids(db):
    account = open_account()
    buy(account, "1200.00", now=OPENED_AT, term=12)
    return list(account.installments.order_by("pk").values_list("pk", flat=True)[:ROWS])


_ACCOUNT_UPDATE = f"""
UPDATE credit_creditaccount a
   SET base_limit = v.base, temporary_limit = v.temporary, probation_limit_cap = v.cap,
       outstanding_principal = v.outstanding, credit_balance = 0, status = v.status
  FROM (VALUES {{values}}) v(id, base, temporary, cap, outstanding, status, alt_base, alt_temporary)
 WHERE a.id = v.id
RETURNING a.id, {formulas.effective_limit_sql("a")}, {formulas.available_sql("a")},
          {formulas.effective_limit_sql("a", "v.alt_base", "v.alt_temporary")},
          {formulas.available_sql("a", formulas.effective_limit_sql("a", "v.alt_base"))},
          {formulas.status_agrees_sql("a")}, {formulas.may_purchase_sql("a")}
"""  # noqa: S608 - constant SQL fragments, values are parameters


@DB
@given(states=st.lists(accounts(), min_size=ROWS, max_size=ROWS))
def test_effective_limit_and_available_are_the_same_in_python_the_orm_and_sql(account_ids, states):
    rows = [
        (
            pk,
            s["base"],
            s["temporary"],
            s["cap"],
            s["outstanding"],
            s["status"],
            s["alt_base"],
            s["alt_temporary"],
        )
        for pk, s in zip(account_ids, states, strict=True)
    ]
    values, params = _values(
        rows,
        ("bigint", "numeric", "numeric", "numeric", "numeric", "varchar", "numeric", "numeric"),
    )
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_UPDATE.format(values=values), params)
        by_sql = {row[0]: row[1:] for row in cursor.fetchall()}
    by_orm = CreditAccount.objects.filter(pk__in=account_ids).annotate(
        orm_effective=formulas.EFFECTIVE_LIMIT,
        orm_available=formulas.AVAILABLE,
        orm_agrees=ExpressionWrapper(formulas.STATUS_AGREES, output_field=BooleanField()),
    )
    states_by_id = dict(zip(account_ids, states, strict=True))
    assert len(by_orm) == len(by_sql) == ROWS
    for account in by_orm:
        state = states_by_id[account.pk]
        replaced = formulas.effective_limit(
            base=state["alt_base"], temporary=state["alt_temporary"], cap=state["cap"]
        )
        new_base = formulas.effective_limit(
            base=state["alt_base"], temporary=state["temporary"], cap=state["cap"]
        )
        python = (
            account.effective_limit,
            account.available,
            replaced,
            formulas.available(effective=new_base, outstanding=state["outstanding"]),
            formulas.status_agrees(status=account.status, available=account.available),
            account.can_purchase,
        )
        assert by_sql[account.pk] == python
        assert (account.orm_effective, account.orm_available, account.orm_agrees) == (
            python[0],
            python[1],
            True,
        )


_INSTALLMENT_FIELDS = (  # the keys of `installments()`, in order
    "principal",
    "principal_refunded",
    "principal_paid",
    "fee",
    "fee_waived",
    "fee_paid",
    "penalty",
    "penalty_waived",
    "penalty_paid",
    "status",
)
_INSTALLMENT_UPDATE = f"""
UPDATE credit_installment i
   SET {", ".join(f"{name} = v.{name}" for name in _INSTALLMENT_FIELDS)},
       principal_paid_refunded = 0, fee_returned = 0
  FROM (VALUES {{values}}) v(id, {", ".join(_INSTALLMENT_FIELDS)})
 WHERE i.id = v.id
RETURNING i.id, {formulas.principal_due_sql("i")}, {formulas.fee_due_sql("i")},
          {formulas.penalty_due_sql("i")}, {formulas.amount_due_sql("i")},
          {formulas.installment_open_sql("i")}, {formulas.installment_overdue_sql("i")}
"""  # noqa: S608 - constant SQL fragments, values are parameters


@DB
@given(states=st.lists(installments(), min_size=ROWS, max_size=ROWS))
def test_amounts_due_and_openness_are_the_same_in_python_the_orm_and_sql(installment_ids, states):
    rows = [
        (pk, *(state[name] for name in _INSTALLMENT_FIELDS))
        for pk, state in zip(installment_ids, states, strict=True)
    ]
    values, params = _values(rows, ("bigint", *["numeric"] * 9, "varchar"))
    with connection.cursor() as cursor:
        cursor.execute(_INSTALLMENT_UPDATE.format(values=values), params)
        by_sql = {row[0]: row[1:] for row in cursor.fetchall()}
    by_orm = Installment.objects.filter(pk__in=installment_ids).annotate(
        orm_principal=formulas.PRINCIPAL_DUE,
        orm_fee=formulas.FEE_DUE,
        orm_penalty=formulas.PENALTY_DUE,
        orm_amount=formulas.AMOUNT_DUE,
        orm_open=ExpressionWrapper(formulas.INSTALLMENT_OPEN, output_field=BooleanField()),
        orm_overdue=ExpressionWrapper(formulas.INSTALLMENT_OVERDUE, output_field=BooleanField()),
    )
    assert len(by_orm) == len(by_sql) == ROWS
    for inst in by_orm:
        python = (
            inst.principal_due,
            inst.fee_due,
            inst.penalty_due,
            inst.amount_due,
            inst.is_open,
            formulas.installment_is_overdue(status=inst.status),
        )
        assert by_sql[inst.pk] == python
        assert (
            inst.orm_principal,
            inst.orm_fee,
            inst.orm_penalty,
            inst.orm_amount,
            inst.orm_open,
            inst.orm_overdue,
        ) == python


_STATUS_AGREES = f"""
SELECT {formulas.status_agrees_sql("a")}
  FROM (VALUES (%s::varchar, %s::numeric, %s::numeric, %s::numeric, %s::numeric))
       a(status, base_limit, temporary_limit, probation_limit_cap, outstanding_principal)
"""  # noqa: S608 - constant SQL fragments, values are parameters
_STORE = """
UPDATE credit_creditaccount
   SET status = %s, base_limit = %s, temporary_limit = %s, probation_limit_cap = %s,
       outstanding_principal = %s, credit_balance = 0
 WHERE id = %s
"""
_CHECK = next(
    c
    for c in CreditAccount._meta.constraints
    if c.name == "account_negative_iff_available_below_zero"
)


@DB
@given(numbers=account_numbers(), status=st.sampled_from(AccountStatus.values))
def test_the_check_constraint_refuses_exactly_the_states_the_formula_forbids(
    account_ids, numbers, status
):
    """Any status beside any numbers: Python, SQL and the Meta constraint's ORM condition
    agree on whether invariant 2 holds, and the database stores the state exactly then."""
    assume(status != AccountStatus.CLOSED or numbers["outstanding"] == 0)  # another CHECK
    python = formulas.status_agrees(
        status=status,
        available=formulas.available(
            effective=formulas.effective_limit(
                base=numbers["base"], temporary=numbers["temporary"], cap=numbers["cap"]
            ),
            outstanding=numbers["outstanding"],
        ),
    )
    params = [status, numbers["base"], numbers["temporary"], numbers["cap"], numbers["outstanding"]]
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_AGREES, params)
        assert cursor.fetchone()[0] is python
    account = CreditAccount(
        status=status,
        base_limit=numbers["base"],
        temporary_limit=numbers["temporary"],
        probation_limit_cap=numbers["cap"],
        outstanding_principal=numbers["outstanding"],
    )
    try:
        _CHECK.validate(CreditAccount, account)
        orm = True
    except ValidationError:
        orm = False
    assert orm is python
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_STORE, [*params, account_ids[0]])
        stored = True
    except IntegrityError as exc:
        assert "account_negative_iff_available_below_zero" in str(exc)
        stored = False
    assert stored is python


def test_the_database_refuses_an_active_account_whose_limit_is_below_its_debt(db):
    account = open_account(base_limit="1000.00")
    refused = pytest.raises(IntegrityError, match="account_negative_iff_available_below_zero")
    with refused, transaction.atomic():
        CreditAccount.objects.filter(pk=account.pk).update(outstanding_principal=D("1000.01"))


def test_status_literals_in_sql_are_quoted_from_the_enums():
    assert formulas.sql_list(formulas.OPEN_INSTALLMENT_STATUSES) == "('PENDING', 'OVERDUE')"
    assert formulas.sql_literal("O'HARA") == "'O''HARA'"


_CUT_NEEDS_NOTICE = f"""
SELECT {formulas.cut_needs_notice_sql("a", "a.new_base", "a.available_after", "a.percent")}
  FROM (VALUES (%s::varchar, %s::numeric, %s::numeric, %s::numeric, %s::numeric))
       a(status, base_limit, new_base, available_after, percent)
"""  # noqa: S608 - constant SQL fragments, values are parameters


@pytest.mark.django_db
@DB
@given(
    status=st.sampled_from(AccountStatus.values),
    base=cents(),
    new_base=cents(),
    available_after=cents() | cents().map(lambda n: -n),
    percent=st.integers(min_value=0, max_value=100).map(D),
)
def test_whether_a_cut_needs_notice_is_the_same_in_python_and_sql(
    status, base, new_base, available_after, percent
):
    """The risk engine's SQL and the staff path's Python decide alike which cuts wait."""
    python = formulas.cut_needs_notice(
        status=status,
        base=base,
        new_base=new_base,
        available_after=available_after,
        percent=percent,
    )
    with connection.cursor() as cursor:
        cursor.execute(_CUT_NEEDS_NOTICE, [status, base, new_base, available_after, percent])
        [(sql,)] = cursor.fetchall()
    assert sql is python
