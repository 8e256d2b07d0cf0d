"""Purchases: quote, authorise (split into installments). Refunds are in refunds.py."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.events import EventType, publish
from credit.models import (
    AccountStatus,
    CreditAccount,
    FeeSchedule,
    InstallmentPlan,
    InstallmentStatus,
    JournalEntryKind,
    Merchant,
    PlanStatus,
    Purchase,
    PurchaseStatus,
)
from credit.models import LedgerAccount as L
from credit.models.accounts import effective_limit_sql
from credit.money import CENT, ZERO
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


def purchase_quote(
    *,
    account: CreditAccount,
    amount,
    term: int,
    now: datetime,
    schedule: FeeSchedule | None = None,
    merchant: Merchant | None = None,
) -> Quote:
    """The schedule and annualised rate the customer will get, before any commitment."""
    amount = amount_validate(amount)
    if amount > _single_purchase_max(merchant):
        raise AmountTooLarge()
    schedule = schedule or fee_schedule_active()
    try:
        rate = schedule.monthly_rate(int(term))
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownTerm() from exc
    if amount < CENT * int(term):
        # Every installment must carry principal: one of 0.00 would sit open with nothing to
        # pay, then turn overdue and count against the customer.
        raise AmountTooSmallForTerm(term=int(term), minimum=str(CENT * int(term)))
    return build_quote(
        amount=amount,
        term=int(term),
        monthly_fee_rate=rate,
        purchase_date=timezone.localdate(now),
        due_day=account.due_day,
    )


def purchase_quotes(
    *, account: CreditAccount, amount, now: datetime, merchant: Merchant | None = None
) -> list[Quote]:
    """A quote for every term offered for this amount, for the checkout's term picker."""
    schedule = fee_schedule_active()
    amount = amount_validate(amount)
    return [
        purchase_quote(
            account=account, amount=amount, term=term, now=now, schedule=schedule, merchant=merchant
        )
        for term in schedule.offered_terms
        if amount >= CENT * term
    ]


_STATUS_REFUSALS = {
    AccountStatus.FROZEN: AccountFrozen,
    AccountStatus.NEGATIVE: AccountNegative,
    AccountStatus.CLOSED: AccountClosed,
}


# One statement authorises a purchase: lock the account if it may buy this much, insert the
# purchase (a repeated idempotency key inserts nothing), its plan, installments and journal
# entries, and add the principal to what the account owes. Every part hangs off the row
# before it, so when the account may not buy, or the key was used, or the priced-with fee
# schedule is no longer the active one, nothing at all is written and the caller finds out
# why (`_authorize_refusal`). FOR UPDATE re-checks the conditions after waiting for a
# concurrent writer, so concurrent purchases can never together exceed the available credit.
_AUTHORIZE = f"""
WITH acct AS (
    SELECT a.id FROM credit_creditaccount a
     WHERE a.id = %(account)s AND a.status IN ('ACTIVE', 'RESTORED')
       AND a.due_day = %(due_day)s
       AND {effective_limit_sql("a")} - a.outstanding_principal >= %(amount)s
       AND EXISTS (SELECT 1 FROM credit_feeschedule f WHERE f.id = %(schedule)s AND f.is_active)
       FOR UPDATE
), purchase AS (
    INSERT INTO credit_purchase (account_id, merchant_id, amount, term_months, description,
                                 merchant_reference, idempotency_key, status, refunded_amount,
                                 created_at)
    SELECT acct.id, %(merchant)s, %(amount)s, %(term)s, %(description)s, %(reference)s, %(key)s,
           %(status)s, 0, %(now)s
      FROM acct
    ON CONFLICT (account_id, idempotency_key) DO NOTHING
    RETURNING id, account_id
), owed AS (
    UPDATE credit_creditaccount a SET outstanding_principal = a.outstanding_principal + %(amount)s
      FROM purchase WHERE a.id = purchase.account_id
    RETURNING a.outstanding_principal, a.credit_balance
), plan AS (
    INSERT INTO credit_installmentplan (purchase_id, account_id, fee_schedule_id, principal,
                                        term_months, monthly_fee_rate, total_fee, annual_rate,
                                        status, extended_at, created_at, closed_at)
    SELECT purchase.id, purchase.account_id, %(schedule)s, %(amount)s, %(term)s, %(rate)s,
           %(total_fee)s, %(annual_rate)s, %(plan_status)s, NULL, %(now)s, NULL
      FROM purchase
    RETURNING id, account_id
), installments AS (
    INSERT INTO credit_installment (plan_id, account_id, sequence, due_date, original_due_date,
                                    principal, fee, penalty, principal_paid, fee_paid,
                                    penalty_paid, principal_refunded, fee_waived, penalty_waived,
                                    status, paid_at, days_past_due,
                                    due_date_before_acceleration, penalty_accrued_through)
    SELECT plan.id, plan.account_id, p.sequence, p.due_date, p.due_date, p.principal, p.fee,
           0, 0, 0, 0, 0, 0, 0, %(installment_status)s, NULL, 0, NULL, NULL
      FROM plan, unnest(%(sequences)s::smallint[], %(due_dates)s::date[],
                        %(principals)s::numeric[], %(fees)s::numeric[])
                 AS p(sequence, due_date, principal, fee)
), entries AS (
    INSERT INTO credit_journalentry (kind, account_id, reference, memo, created_at)
    SELECT e.kind, purchase.account_id, 'purchase:' || purchase.id, '', %(now)s
      FROM purchase, unnest(%(entry_kinds)s::text[]) AS e(kind)
    RETURNING id, kind
), lines AS (
    INSERT INTO credit_journalline (entry_id, ledger_account, account_id, debit, credit)
    SELECT entries.id, l.ledger_account, %(account)s, l.debit, l.credit
      FROM entries
      JOIN unnest(%(line_kinds)s::text[], %(line_accounts)s::text[], %(debits)s::numeric[],
                  %(credits)s::numeric[]) AS l(kind, ledger_account, debit, credit)
        ON l.kind = entries.kind
)
SELECT purchase.id, plan.id, owed.outstanding_principal, owed.credit_balance
  FROM purchase, plan, owed
"""  # noqa: S608 - SQL built from code constants; values are bound parameters


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
    order = _Order(merchant, amount, term, idempotency_key, now, description, merchant_reference)
    schedule = fee_schedule_active_cached()
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
        existing = _authorize_refusal(account=account, order=order, quote=quote)
        if existing is not None:
            return existing
        fee_schedule_cache_clear()
        schedule = fee_schedule_active_cached()
        quote = order.quote(account=account, schedule=schedule)
        purchase = _authorize_once(account=account, order=order, quote=quote, schedule=schedule)
        if purchase is None:  # under the lock with nothing in the way: cannot happen
            raise RuntimeError(f"purchase on account {account.pk} refused for no reason")
        return purchase


@dataclass(frozen=True)
class _Order:
    merchant: Merchant
    amount: object  # as given; purchase_quote validates it
    term: int
    idempotency_key: str
    now: datetime
    description: str
    merchant_reference: str

    def quote(self, *, account: CreditAccount, schedule: FeeSchedule) -> Quote:
        return purchase_quote(
            account=account,
            amount=self.amount,
            term=self.term,
            now=self.now,
            schedule=schedule,
            merchant=self.merchant,
        )


def _authorize_once(
    *, account: CreditAccount, order: _Order, quote: Quote, schedule: FeeSchedule
) -> Purchase | None:
    """Run the statement and announce the purchase; None when it wrote nothing."""
    authorized = _authorize_statement(account=account, order=order, quote=quote, schedule=schedule)
    if authorized is None:
        return None
    purchase_id, plan_id, outstanding, balance = authorized
    account.outstanding_principal, account.credit_balance = outstanding, balance
    purchase = Purchase(
        id=purchase_id,
        account=account,
        merchant=order.merchant,
        amount=quote.amount,
        term_months=quote.term_months,
        description=order.description,
        merchant_reference=order.merchant_reference,
        idempotency_key=order.idempotency_key,
        status=PurchaseStatus.AUTHORIZED,
        refunded_amount=ZERO,
        created_at=order.now,
    )
    purchase.plan = InstallmentPlan(
        id=plan_id,
        purchase=purchase,
        account=account,
        fee_schedule=schedule,
        principal=quote.amount,
        term_months=quote.term_months,
        monthly_fee_rate=quote.monthly_fee_rate,
        total_fee=quote.total_fee,
        annual_rate=quote.annual_rate,
        status=PlanStatus.ACTIVE,
        created_at=order.now,
    )
    purchase._state.adding = purchase.plan._state.adding = False  # both rows exist
    publish(
        event=EventType.PURCHASE_CONFIRMED,
        user=account.customer,
        context={"purchase_id": purchase_id, "merchant": order.merchant.name, **quote.as_dict()},
        dedupe_key=f"purchase:{purchase_id}:confirmed",
        now=order.now,
    )
    if balance > 0:  # the customer's balance pays the new installments (rare: a slower path)
        account = account_lock(account)
        credit_balance_apply(account=account, now=order.now, source=f"purchase:{purchase_id}")
        purchase.account = purchase.plan.account = account
    return purchase


def _authorize_statement(
    *, account: CreditAccount, order: _Order, quote: Quote, schedule: FeeSchedule
) -> tuple[int, int, Decimal, Decimal] | None:
    """(purchase id, plan id, new outstanding principal, credit balance), or None when nothing
    was written."""
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
        "status": PurchaseStatus.AUTHORIZED,
        "now": order.now,
        "rate": quote.monthly_fee_rate,
        "total_fee": quote.total_fee,
        "annual_rate": quote.annual_rate,
        "plan_status": PlanStatus.ACTIVE,
        "installment_status": InstallmentStatus.PENDING,
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


def _authorize_refusal(*, account: CreditAccount, order: _Order, quote: Quote) -> Purchase | None:
    """Why the statement wrote nothing, read under the account's lock: the purchase this
    idempotency key already made (returned), or the refusal (raised). None: nothing is in
    the way any more (the fee schedule or due day had changed; price again)."""
    existing = Purchase.objects.filter(
        account=account, idempotency_key=order.idempotency_key
    ).first()
    if existing is not None:
        if (existing.amount, existing.term_months, existing.merchant_id) != (
            quote.amount,
            quote.term_months,
            order.merchant.pk,
        ):
            raise IdempotencyKeyConflict()
        return existing
    if account.status in _STATUS_REFUSALS:
        raise _STATUS_REFUSALS[account.status]()
    if quote.amount > account.available:
        raise InsufficientCredit(available=str(account.available))
    return None
