"""Purchases: quote, authorise (split into installments). Refunds are in refunds.py."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg import sql

from core.events import EventType, publish
from credit.formulas import (
    available_sql,
    may_purchase_sql,
    verification_allows,
    verification_allows_sql,
)
from credit.models import (
    AccountStatus,
    CreditAccount,
    FeeSchedule,
    Installment,
    InstallmentPlan,
    JournalEntry,
    JournalEntryKind,
    JournalLine,
    Merchant,
    Purchase,
)
from credit.models import LedgerAccount as L
from credit.money import CENT
from credit.pricing import Quote, build_quote
from credit.services.amounts import amount_validate
from credit.services.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNegative,
    AmountTooLarge,
    AmountTooSmallForTerm,
    IdempotencyKeyConflict,
    InsufficientCredit,
    UnknownTerm,
    VerificationRequired,
)
from credit.services.fees import (
    fee_schedule_active,
    fee_schedule_active_cached,
    fee_schedule_cache_clear,
)
from credit.services.ledger import balanced_lines, credit, debit
from credit.services.lifecycle import account_lock
from credit.services.repayments import credit_balance_apply


def _single_purchase_max(merchant: Merchant | None) -> Decimal:
    if merchant is not None and merchant.single_purchase_max is not None:
        return merchant.single_purchase_max
    return Decimal(settings.CREDIT_SINGLE_PURCHASE_MAX)


def _amount_checked(amount, merchant: Merchant | None) -> Decimal:
    amount = amount_validate(amount)
    if amount > _single_purchase_max(merchant):
        raise AmountTooLarge()
    return amount


def _term_checked(term) -> int:
    try:
        return int(term)
    except (TypeError, ValueError) as exc:
        raise UnknownTerm() from exc


def _price(
    *, amount: Decimal, term: int, due_day: int, now: datetime, schedule: FeeSchedule
) -> Quote:
    """The quote for a checked amount and term; UnknownTerm if the schedule does not offer it."""
    try:
        rate = schedule.monthly_rate(term)
    except KeyError as exc:
        raise UnknownTerm() from exc
    if amount < CENT * term:
        # Every installment must carry principal: one of 0.00 would sit open with nothing to
        # pay, then turn overdue and count against the customer.
        raise AmountTooSmallForTerm(term=term, minimum=str(CENT * term))
    return build_quote(
        amount=amount,
        term=term,
        monthly_fee_rate=rate,
        purchase_date=timezone.localdate(now),
        due_day=due_day,
    )


def purchase_quote(
    *, account: CreditAccount, amount, term: int, now: datetime, merchant: Merchant | None = None
) -> Quote:
    """The schedule and annualised rate the customer will get, before any commitment."""
    amount = _amount_checked(amount, merchant)
    schedule = fee_schedule_active()
    return _price(
        amount=amount, term=_term_checked(term), due_day=account.due_day, now=now, schedule=schedule
    )


def purchase_quotes(
    *, account: CreditAccount, amount, now: datetime, merchant: Merchant | None = None
) -> list[Quote]:
    """A quote for every term offered for this amount, for the checkout's term picker."""
    schedule = fee_schedule_active()
    amount = _amount_checked(amount, merchant)
    return [
        _price(amount=amount, term=term, due_day=account.due_day, now=now, schedule=schedule)
        for term in schedule.offered_terms
        if amount >= CENT * term
    ]


_STATUS_REFUSALS = {
    AccountStatus.FROZEN: AccountFrozen,
    AccountStatus.NEGATIVE: AccountNegative,
    AccountStatus.CLOSED: AccountClosed,
}


# --- the authorisation statement, its column lists generated from the models ------------------


def _written(model: type[models.Model]) -> list[models.Field]:
    """The fields an INSERT must write: all but the serial id and the `db_default` columns."""
    return [f for f in model._meta.concrete_fields if not (f.primary_key or f.has_db_default())]


def _insert(model: type[models.Model], *, source: str) -> str:
    """`INSERT INTO <table> (…) SELECT … FROM <source>` over every written column. `_SELECTED`
    gives the SQL of some columns; every other one gets its Python default, so a column added
    later gets what `Model()` would give it, never silently the database's default."""
    select = _SELECTED[model]
    columns = [f.column for f in _written(model)]
    values = ", ".join(select.get(f.column) or _default_sql(f) for f in _written(model))
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {source}"  # noqa: S608


def _default_sql(f: models.Field) -> str:
    """The field's Python default as an SQL literal: a constant of the code, like the rest of
    the statement, so it costs no parameter per purchase."""
    if f.has_default() and callable(f.default):  # read once, at import, for every purchase
        raise ImproperlyConfigured(f"{f} has a callable default: give its SQL in _SELECTED")
    return sql.Literal(f.get_default()).as_string()


def _returning(model: type[models.Model]) -> str:
    """Every column, in the order `Model.from_db` takes them."""
    return "RETURNING " + ", ".join(f.column for f in model._meta.concrete_fields)


# The SQL of each inserted column the statement computes or binds itself.
_SELECTED = {
    Purchase: {
        "account_id": "acct.id",
        "merchant_id": "%(merchant)s",
        "amount": "%(amount)s",
        "term_months": "%(term)s",
        "description": "%(description)s",
        "merchant_reference": "%(reference)s",
        "idempotency_key": "%(key)s",
        "created_at": "%(now)s",
    },
    InstallmentPlan: {
        "purchase_id": "purchase.id",
        "account_id": "purchase.account_id",
        "fee_schedule_id": "%(schedule)s",
        "principal": "%(amount)s",
        "term_months": "%(term)s",
        "monthly_fee_rate": "%(rate)s",
        "total_fee": "%(total_fee)s",
        "annual_rate": "%(annual_rate)s",
        "created_at": "%(now)s",
    },
    Installment: {
        "plan_id": "plan.id",
        "account_id": "plan.account_id",
        "sequence": "p.sequence",
        "due_date": "p.due_date",
        "original_due_date": "p.due_date",
        "principal": "p.principal",
        "fee": "p.fee",
    },
    JournalEntry: {
        "kind": "e.kind",
        "account_id": "purchase.account_id",
        "reference": "'purchase:' || purchase.id",
        "created_at": "%(now)s",
    },
    JournalLine: {
        "entry_id": "entries.id",
        "ledger_account": "l.ledger_account",
        "account_id": "%(account)s",
        "debit": "l.debit",
        "credit": "l.credit",
    },
}
# One statement authorises a purchase: lock the account if it may buy this much, insert the
# purchase (a repeated idempotency key inserts nothing), its plan, installments and journal
# entries, and add the principal to what the account owes. Every part hangs off the row
# before it, so when the account may not buy, or the key was used, or the priced-with fee
# schedule is no longer the active one, nothing at all is written and the caller finds out
# why (`_authorize_refusal`). FOR UPDATE re-checks the conditions after waiting for a
# concurrent writer, so concurrent purchases can never together exceed the available credit.
# The purchase and plan rows come back whole, so they are hydrated without another query.
_PERIODS = """plan, unnest(%(sequences)s::smallint[], %(due_dates)s::date[],
                  %(principals)s::numeric[], %(fees)s::numeric[])
            AS p(sequence, due_date, principal, fee)"""
_KINDS = "purchase, unnest(%(entry_kinds)s::text[]) AS e(kind)"
_LINES = """entries
      JOIN unnest(%(line_kinds)s::text[], %(line_accounts)s::text[], %(debits)s::numeric[],
                  %(credits)s::numeric[]) AS l(kind, ledger_account, debit, credit)
        ON l.kind = entries.kind"""
_AUTHORIZE = f"""
WITH acct AS (
    SELECT a.id FROM credit_creditaccount a
     WHERE a.id = %(account)s AND {may_purchase_sql("a")}
       AND a.due_day = %(due_day)s
       AND {available_sql("a")} >= %(amount)s
       AND {verification_allows_sql("a", "%(amount)s")}
       AND EXISTS (SELECT 1 FROM credit_feeschedule f WHERE f.id = %(schedule)s AND f.is_active)
       FOR UPDATE
), purchase AS (
    {_insert(Purchase, source="acct")}
    ON CONFLICT (account_id, idempotency_key) DO NOTHING
    {_returning(Purchase)}
), owed AS (
    UPDATE credit_creditaccount a SET outstanding_principal = a.outstanding_principal + %(amount)s
      FROM purchase WHERE a.id = purchase.account_id
    RETURNING a.outstanding_principal, a.credit_balance
), plan AS (
    {_insert(InstallmentPlan, source="purchase")}
    {_returning(InstallmentPlan)}
), installments AS (
    {_insert(Installment, source=_PERIODS)}
), entries AS (
    {_insert(JournalEntry, source=_KINDS)}
    RETURNING id, kind
), lines AS (
    {_insert(JournalLine, source=_LINES)}
)
SELECT purchase.*, plan.*, owed.outstanding_principal, owed.credit_balance
  FROM purchase, plan, owed
"""  # noqa: S608 - SQL built from code constants; values are bound parameters

_PURCHASE_FIELDS = [f.attname for f in Purchase._meta.concrete_fields]
_PLAN_FIELDS = [f.attname for f in InstallmentPlan._meta.concrete_fields]


def purchase_authorize(
    *,
    account: CreditAccount,
    merchant: Merchant,
    amount,
    term: int,
    idempotency_key: str,
    now: datetime,
    description: str = "",
    merchant_reference: str = "",
) -> Purchase:
    """Authorise a purchase on the credit line and split it into an installment plan.

    Concurrent authorisations can never together exceed the available credit (invariant 3):
    the account row is locked for the check and the update. The same idempotency key on the
    account returns the purchase it made (or IdempotencyKeyConflict if the terms differ).
    """
    schedule = fee_schedule_active_cached()
    order = _Order(
        merchant=merchant,
        amount=_amount_checked(amount, merchant),
        term=_term_checked(term),
        idempotency_key=idempotency_key,
        now=now,
        description=description,
        merchant_reference=merchant_reference,
    )
    try:
        quote = order.quote(account=account, schedule=schedule)
    except UnknownTerm:  # perhaps offered by a schedule activated since the copy was taken
        fee_schedule_cache_clear()
        schedule = fee_schedule_active_cached()
        quote = order.quote(account=account, schedule=schedule)
    # No savepoint: the statement writes everything or nothing, so there is nothing to undo.
    with transaction.atomic(savepoint=False):
        purchase = _authorize_once(account=account, order=order, quote=quote, schedule=schedule)
    if purchase is not None:
        return purchase
    # Something stood in the way. Find out what under the account's lock, in a savepoint so
    # that a refusal leaves a caller's transaction usable; a stale copy of the fee schedule
    # or due day is priced again and tried once more.
    with transaction.atomic():
        account = account_lock(account)
        existing = _authorize_refusal(account=account, order=order)
        if existing is not None:
            return existing
        fee_schedule_cache_clear()
        schedule = fee_schedule_active_cached()
        quote = order.quote(account=account, schedule=schedule)
        purchase = _authorize_once(account=account, order=order, quote=quote, schedule=schedule)
        if purchase is None:  # under the lock with nothing in the way: cannot happen
            raise RuntimeError(f"purchase on account {account.pk} refused for no reason")
        return purchase


@dataclass
class _Order:
    """A purchase request, checked once, and its quote: priced again only when the fee
    schedule or the account's due day it was priced with has changed."""

    merchant: Merchant
    amount: Decimal
    term: int
    idempotency_key: str
    now: datetime
    description: str
    merchant_reference: str
    _priced: tuple[tuple[int, int], Quote] | None = field(default=None, repr=False)

    def quote(self, *, account: CreditAccount, schedule: FeeSchedule) -> Quote:
        priced_with = (schedule.pk, account.due_day)
        if self._priced is None or self._priced[0] != priced_with:
            quote = _price(
                amount=self.amount,
                term=self.term,
                due_day=account.due_day,
                now=self.now,
                schedule=schedule,
            )
            self._priced = (priced_with, quote)
        return self._priced[1]


def _authorize_once(
    *, account: CreditAccount, order: _Order, quote: Quote, schedule: FeeSchedule
) -> Purchase | None:
    """Run the statement and announce the purchase; None when it wrote nothing."""
    row = _authorize_statement(account=account, order=order, quote=quote, schedule=schedule)
    if row is None:
        return None
    plan_at = len(_PURCHASE_FIELDS)
    owed_at = plan_at + len(_PLAN_FIELDS)
    purchase = Purchase.from_db(connection.alias, _PURCHASE_FIELDS, row[:plan_at])
    plan = InstallmentPlan.from_db(connection.alias, _PLAN_FIELDS, row[plan_at:owed_at])
    account.outstanding_principal, account.credit_balance = row[owed_at:]
    # The related objects in hand, so reading them (the event, the API's answer) costs nothing.
    purchase.account = plan.account = account
    purchase.merchant = order.merchant
    plan.fee_schedule = schedule
    purchase.plan = plan
    publish(
        event=EventType.PURCHASE_CONFIRMED,
        user=account.customer,
        context={"purchase_id": purchase.pk, "merchant": order.merchant.name, **quote.as_dict()},
        dedupe_key=f"purchase:{purchase.pk}:confirmed",
        now=order.now,
    )
    if account.credit_balance > 0:  # the balance pays the new installments (rare: slower path)
        account = account_lock(account)
        credit_balance_apply(account=account, now=order.now, source=f"purchase:{purchase.pk}")
        purchase.account = plan.account = account
    return purchase


def _authorize_statement(
    *, account: CreditAccount, order: _Order, quote: Quote, schedule: FeeSchedule
) -> tuple | None:
    """The purchase row, the plan row, the new outstanding principal and the credit balance,
    or None when nothing was written."""
    entries = [
        (kind, balanced_lines(f"a purchase on account {account.pk}", lines))
        for kind, lines in (
            (
                JournalEntryKind.PURCHASE,
                [
                    debit(L.RECEIVABLE_PRINCIPAL, quote.amount),
                    credit(L.MERCHANT_PAYABLE, quote.amount),
                ],
            ),
            (
                JournalEntryKind.FEE,
                [debit(L.RECEIVABLE_FEE, quote.total_fee), credit(L.FEE_INCOME, quote.total_fee)],
            ),
        )
    ]
    entries = [(kind, lines) for kind, lines in entries if lines]
    lines = [(kind, *line) for kind, entry_lines in entries for line in entry_lines]
    params = {
        "account": account.pk,
        "due_day": account.due_day,
        "amount": quote.amount,
        "schedule": schedule.pk,
        "merchant": order.merchant.pk,
        "term": quote.term_months,
        "description": order.description,
        "reference": order.merchant_reference,
        "key": order.idempotency_key,
        "now": order.now,
        "rate": quote.monthly_fee_rate,
        "total_fee": quote.total_fee,
        "annual_rate": quote.annual_rate,
        "sequences": [p.sequence for p in quote.periods],
        "due_dates": [p.due_date for p in quote.periods],
        "principals": [p.principal for p in quote.periods],
        "fees": [p.fee for p in quote.periods],
        "entry_kinds": [str(kind) for kind, _lines in entries],
        "line_kinds": [str(line[0]) for line in lines],
        "line_accounts": [str(line[1]) for line in lines],
        "debits": [line[2] for line in lines],
        "credits": [line[3] for line in lines],
    }
    with connection.cursor() as cursor:
        cursor.execute(_AUTHORIZE, params)
        return cursor.fetchone()


def _authorize_refusal(*, account: CreditAccount, order: _Order) -> Purchase | None:
    """Why the statement wrote nothing, read under the account's lock: the purchase this
    idempotency key already made (returned), or the refusal (raised). None: nothing is in
    the way any more (the fee schedule or due day had changed; price again)."""
    existing = Purchase.objects.filter(
        account=account, idempotency_key=order.idempotency_key
    ).first()
    if existing is not None:
        if (existing.amount, existing.term_months, existing.merchant_id) != (
            order.amount,
            order.term,
            order.merchant.pk,
        ):
            raise IdempotencyKeyConflict()
        return existing
    if account.status in _STATUS_REFUSALS:
        raise _STATUS_REFUSALS[account.status]()
    purchase_max = account.verification_purchase_max
    if not verification_allows(purchase_max=purchase_max, amount=order.amount):
        raise VerificationRequired(purchase_max=purchase_max)
    if order.amount > account.available:
        raise InsufficientCredit(available=str(account.available))
    return None
