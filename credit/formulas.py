"""The balance rules, each written once in its three forms side by side.

For every rule: a Python function (model properties, services), an ORM expression
(annotations, filters, the CHECK constraints in the models' Meta) and an SQL fragment (the
set-based statements of servicing, risk, authorisation and the ledger check), which takes
the table alias and, where a statement computes with values that are not yet in the row,
the column expressions to use instead. `credit/tests/test_formulas.py` proves that the three
forms give the same numbers.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, When
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThanOrEqual, LessThan

from credit.choices import AccountStatus, InstallmentStatus

# A plain DecimalField, not MoneyField: migration states hold a DecimalField, and a CHECK
# constraint whose expression names another output type is re-created by every makemigrations.
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def sql_literal(value: str) -> str:
    """A value (an enum member) as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: Iterable[str]) -> str:
    """Values as a parenthesised SQL list, for `IN`."""
    return "(" + ", ".join(sql_literal(value) for value in values) + ")"


# --- effective limit: base + active temporary grants, capped by the probation cap while set


def effective_limit(*, base: Decimal, temporary: Decimal, cap: Decimal | None) -> Decimal:
    limit = base + temporary
    return limit if cap is None else min(limit, cap)


EFFECTIVE_LIMIT = Case(
    When(
        probation_limit_cap__isnull=False,
        then=Least(F("base_limit") + F("temporary_limit"), F("probation_limit_cap")),
    ),
    default=F("base_limit") + F("temporary_limit"),
    output_field=_MONEY,
)


def effective_limit_sql(alias: str, base: str | None = None, temporary: str | None = None) -> str:
    """Over the account row `alias`; `base` and `temporary` replace its base and temporary
    limit columns (a proposed base limit, the temporary limit before a grant expired)."""
    base = base or f"{alias}.base_limit"
    temporary = temporary or f"{alias}.temporary_limit"
    return (
        f"(CASE WHEN {alias}.probation_limit_cap IS NOT NULL"
        f" THEN LEAST({base} + {temporary}, {alias}.probation_limit_cap)"
        f" ELSE {base} + {temporary} END)"
    )


# --- available: effective limit − outstanding principal; negative after a cut below the debt


def available(*, effective: Decimal, outstanding: Decimal) -> Decimal:
    return effective - outstanding


AVAILABLE = ExpressionWrapper(EFFECTIVE_LIMIT - F("outstanding_principal"), output_field=_MONEY)


def available_sql(alias: str, effective: str | None = None) -> str:
    """Over the account row `alias`; `effective` replaces its effective limit (a new one)."""
    return f"({effective or effective_limit_sql(alias)} - {alias}.outstanding_principal)"


# --- invariant 2: outside FROZEN and CLOSED, NEGATIVE exactly when available is below zero

_STATUS_FREE = (AccountStatus.FROZEN, AccountStatus.CLOSED)


def status_agrees(*, status: str, available: Decimal) -> bool:
    return status in _STATUS_FREE or (status == AccountStatus.NEGATIVE) == (available < 0)


STATUS_AGREES = (
    Q(status__in=_STATUS_FREE)
    | Q(Q(status=AccountStatus.NEGATIVE), LessThan(AVAILABLE, 0))
    | Q(~Q(status=AccountStatus.NEGATIVE), GreaterThanOrEqual(AVAILABLE, 0))
)


def status_agrees_sql(alias: str, available: str | None = None) -> str:
    """Over the account row `alias`; `available` replaces its available credit (a new one)."""
    return (
        f"({alias}.status IN {sql_list(_STATUS_FREE)}"
        f" OR ({alias}.status = {sql_literal(AccountStatus.NEGATIVE)})"
        f" = ({available or available_sql(alias)} < 0))"
    )


# --- who may buy: good standing or probation; FROZEN, NEGATIVE and CLOSED accounts may not

PURCHASING_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RESTORED)


def may_purchase(*, status: str) -> bool:
    return status in PURCHASING_STATUSES


def may_purchase_sql(alias: str) -> str:
    return f"{alias}.status IN {sql_list(PURCHASING_STATUSES)}"


# --- while the customer is asked to verify, purchases above a small amount wait


def verification_allows(*, purchase_max: Decimal | None, amount: Decimal) -> bool:
    return purchase_max is None or amount <= purchase_max


def verification_allows_sql(alias: str, amount: str) -> str:
    return (
        f"({alias}.verification_purchase_max IS NULL"
        f" OR {amount} <= {alias}.verification_purchase_max)"
    )


# --- amounts due on an installment: what remains after refunds, waivers and payments


def principal_due(*, principal: Decimal, refunded: Decimal, paid: Decimal) -> Decimal:
    return principal - refunded - paid


def fee_due(*, fee: Decimal, waived: Decimal, paid: Decimal) -> Decimal:
    return fee - waived - paid


def penalty_due(*, penalty: Decimal, waived: Decimal, paid: Decimal) -> Decimal:
    return penalty - waived - paid


PRINCIPAL_DUE = ExpressionWrapper(
    F("principal") - F("principal_refunded") - F("principal_paid"), output_field=_MONEY
)
FEE_DUE = ExpressionWrapper(F("fee") - F("fee_waived") - F("fee_paid"), output_field=_MONEY)
PENALTY_DUE = ExpressionWrapper(
    F("penalty") - F("penalty_waived") - F("penalty_paid"), output_field=_MONEY
)
AMOUNT_DUE = ExpressionWrapper(PRINCIPAL_DUE + FEE_DUE + PENALTY_DUE, output_field=_MONEY)


def principal_due_sql(alias: str) -> str:
    return f"({alias}.principal - {alias}.principal_refunded - {alias}.principal_paid)"


def fee_due_sql(alias: str) -> str:
    return f"({alias}.fee - {alias}.fee_waived - {alias}.fee_paid)"


def penalty_due_sql(alias: str) -> str:
    return f"({alias}.penalty - {alias}.penalty_waived - {alias}.penalty_paid)"


def amount_due_sql(alias: str) -> str:
    return f"({principal_due_sql(alias)} + {fee_due_sql(alias)} + {penalty_due_sql(alias)})"


# --- open installments: still owed (upcoming or overdue), as opposed to PAID or WAIVED

OPEN_INSTALLMENT_STATUSES = (InstallmentStatus.PENDING, InstallmentStatus.OVERDUE)


def installment_is_open(*, status: str) -> bool:
    return status in OPEN_INSTALLMENT_STATUSES


INSTALLMENT_OPEN = Q(status__in=OPEN_INSTALLMENT_STATUSES)


def installment_open_sql(alias: str) -> str:
    return f"{alias}.status IN {sql_list(OPEN_INSTALLMENT_STATUSES)}"


# --- overdue: an installment still owed past its due date and grace; an account with none
# left is cured, and the OVERDUE freeze reason goes (at once on a repayment, or at the close)


def installment_is_overdue(*, status: str) -> bool:
    return status == InstallmentStatus.OVERDUE


INSTALLMENT_OVERDUE = Q(status=InstallmentStatus.OVERDUE)


def installment_overdue_sql(alias: str) -> str:
    return f"{alias}.status = {sql_literal(InstallmentStatus.OVERDUE)}"


# --- a cut that needs notice: deeper than the cooling-off percent, or leaving available
# below zero, or on an account already NEGATIVE. It is announced and waits (automated or
# staff alike) unless a staff cut names a reason that acts at once (core.reasons.ACTS_AT_ONCE).


def cut_needs_notice(
    *, status: str, base: Decimal, new_base: Decimal, available_after: Decimal, percent: Decimal
) -> bool:
    return new_base < base and (
        status == AccountStatus.NEGATIVE
        or available_after < 0
        or (base > 0 and (base - new_base) * 100 > percent * base)
    )


def cut_needs_notice_sql(alias: str, new_base: str, available_after: str, percent: str) -> str:
    """Over the account row `alias`; `new_base` and `available_after` are column expressions
    (the proposed base limit, the available credit under it); `percent` an SQL number."""
    base = f"{alias}.base_limit"
    return (
        f"({new_base} < {base} AND ({alias}.status = {sql_literal(AccountStatus.NEGATIVE)}"
        f" OR {available_after} < 0"
        f" OR ({base} > 0 AND ({base} - {new_base}) * 100 > {percent} * {base})))"
    )


# --- periods not begun: in each plan, the first installment due today or later is the one
# whose period is running; those due after it have not begun, so no fee is owed on them yet
# (the waterfall takes their principal only; a full prepayment or payoff waives their fee)


def periods_not_begun(dated: list[tuple[int, int, date]], today: date) -> set[int]:
    """The ids of installments whose period has not begun, from (id, plan id, due date) of
    every installment of their plans, paid or not: in each plan, the first installment due
    today or later is the one whose period is running; those due after it have not begun, so
    no fee is owed on them yet."""
    running: dict[int, date] = {}
    for _pk, plan_id, due in dated:
        if due >= today and (plan_id not in running or due < running[plan_id]):
            running[plan_id] = due
    return {pk for pk, plan_id, due in dated if plan_id in running and due > running[plan_id]}
