"""check_ledger: passes on a realistic book, and each check catches a violation planted with SQL.

Plants go around the guards on purpose (raw SQL; the CHECK constraint or the append-only and
balance triggers dropped or disabled inside the test's transaction, which rolls them back).
"""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from conftest import shanghai
from core.reasons import ReasonCode
from credit.ledger_check import ledger_check
from credit.models import AccountStatus, FreezeReason, LimitChangeKind
from credit.risk.models import RiskFlag, RuleCode
from credit.risk.verification import verification_open
from credit.services import account_freeze, limit_set, purchase_refund
from testkit.credit import buy, open_account, repay

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def book():
    """Three accounts: one busy ACTIVE, one NEGATIVE after a cut, one FROZEN."""
    busy = open_account()
    p1 = buy(busy, "1200.00", term=3, now=shanghai(2026, 1, 6, 12, 0))
    buy(busy, "999.99", term=12, now=shanghai(2026, 1, 20, 12, 0))
    buy(busy, "300.00", term=1, now=shanghai(2026, 1, 21, 12, 0))
    repay(busy, "500.00", now=shanghai(2026, 2, 10, 9, 0))
    purchase_refund(
        purchase=p1, amount=D("1000.00"), idempotency_key="r1", now=shanghai(2026, 2, 12, 9, 0)
    )
    cut = open_account(base_limit="3000.00")
    buy(cut, "2500.00", term=6, now=shanghai(2026, 1, 7, 12, 0))
    limit_set(
        account=cut,
        new_base_limit=D("1000.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.HIGH_UTILISATION],
        run_id=7,
        now=shanghai(2026, 2, 1, 2, 0),
    )
    frozen = open_account()
    buy(frozen, "100.00", term=3, now=shanghai(2026, 1, 8, 12, 0))
    account_freeze(account=frozen, reason=FreezeReason.OVERDUE, now=shanghai(2026, 2, 14, 2, 0))
    cut.refresh_from_db()
    frozen.refresh_from_db()
    assert (cut.status, frozen.status) == (AccountStatus.NEGATIVE, AccountStatus.FROZEN)
    return {"busy": busy, "cut": cut, "frozen": frozen}


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def drop_negative_check() -> None:
    # Deferred foreign-key checks must run first: PostgreSQL refuses to alter a table with
    # pending trigger events.
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(
        "ALTER TABLE credit_creditaccount DROP CONSTRAINT account_negative_iff_available_below_zero"
    )


def disable_verification_trigger() -> None:
    sql("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events before ALTER TABLE
    sql(
        "ALTER TABLE credit_creditaccount "
        "DISABLE TRIGGER risk_verification_purchase_max_agrees_account"
    )


def broken(report, invariant: int) -> set[int]:
    """Account ids the report names under this invariant."""
    return {v.account_id for v in report.violations if v.invariant == invariant}


def test_a_book_built_through_the_services_passes_every_check(book):
    report = ledger_check()
    assert report.ok, report.format()
    assert report.counts["accounts"] == 3
    assert report.counts["plans"] == 5
    assert report.counts["status logs"] == 2
    assert "Ledger OK" in report.format()


def test_the_command_prints_the_counts_and_exits_zero_on_a_clean_book(book, capsys):
    call_command("check_ledger")
    out = capsys.readouterr().out
    assert "Checked 3 accounts, 5 plans" in out
    assert "Ledger OK" in out


def test_the_command_exits_non_zero_naming_the_account_on_a_violation(book):
    busy = book["busy"]
    sql(
        "UPDATE credit_installment SET principal_paid = principal_paid + 1 WHERE id = ("
        "SELECT MIN(id) FROM credit_installment WHERE account_id = %s AND status = 'PENDING')",
        busy.pk,
    )
    with pytest.raises(CommandError) as raised:
        call_command("check_ledger")
    assert raised.value.returncode == 1


def test_invariant_1_catches_outstanding_principal_disagreeing_with_the_installments(book):
    busy = book["busy"]
    sql(
        "UPDATE credit_installment SET principal_paid = principal_paid + 1 WHERE id = ("
        "SELECT MIN(id) FROM credit_installment WHERE account_id = %s AND status = 'PENDING')",
        busy.pk,
    )
    assert broken(ledger_check(), 1) == {busy.pk}


def test_invariant_1_catches_a_paid_installment_that_still_owes(book):
    busy = book["busy"]
    sql(
        "UPDATE credit_installment SET status = 'PAID' WHERE id = (SELECT MAX(id) FROM "
        "credit_installment WHERE account_id = %s AND status = 'PENDING')",
        busy.pk,
    )
    report = ledger_check()
    assert any(
        v.check == "a paid installment owes nothing" and v.account_id == busy.pk
        for v in report.violations
    )


def test_invariant_2_catches_a_negative_status_with_available_credit(book):
    busy = book["busy"]
    drop_negative_check()
    sql("UPDATE credit_creditaccount SET status = 'NEGATIVE' WHERE id = %s", busy.pk)
    assert busy.pk in broken(ledger_check(), 2)


def test_invariant_2_and_3_catch_an_active_account_below_zero(book):
    busy = book["busy"]
    drop_negative_check()
    sql("UPDATE credit_creditaccount SET base_limit = 10 WHERE id = %s", busy.pk)
    report = ledger_check()
    assert busy.pk in broken(report, 2)
    assert busy.pk in broken(report, 3)


def test_invariant_3_ignores_frozen_accounts_below_zero(book):
    frozen = book["frozen"]
    sql("UPDATE credit_creditaccount SET base_limit = 10 WHERE id = %s", frozen.pk)
    report = ledger_check()
    assert frozen.pk not in broken(report, 2) | broken(report, 3)


def test_invariant_4_catches_allocations_not_summing_to_the_repayment(book):
    busy = book["busy"]
    sql(
        "UPDATE credit_repaymentallocation SET amount = amount - 0.01 WHERE id = ("
        "SELECT MIN(al.id) FROM credit_repaymentallocation al JOIN credit_repayment r "
        "ON r.id = al.repayment_id WHERE r.account_id = %s)",
        busy.pk,
    )
    assert broken(ledger_check(), 4) == {busy.pk}


def test_invariant_4_catches_an_allocation_to_another_accounts_installment(book):
    busy, cut = book["busy"], book["cut"]
    sql(
        "UPDATE credit_repaymentallocation SET installment_id = (SELECT MIN(id) FROM "
        "credit_installment WHERE account_id = %s) WHERE id = (SELECT MIN(al.id) FROM "
        "credit_repaymentallocation al JOIN credit_repayment r ON r.id = al.repayment_id "
        "WHERE r.account_id = %s)",
        cut.pk,
        busy.pk,
    )
    report = ledger_check()
    assert any(v.check.startswith("a repayment pays only") for v in report.violations)


def test_invariant_4_catches_a_credit_balance_left_beside_open_installments(book):
    busy = book["busy"]
    sql("UPDATE credit_creditaccount SET credit_balance = 5.00 WHERE id = %s", busy.pk)
    report = ledger_check()
    assert any(
        v.check.startswith("a credit balance never waits") and v.account_id == busy.pk
        for v in report.violations
    )


def test_invariant_5_catches_a_plan_whose_installments_do_not_sum_to_its_principal(book):
    cut = book["cut"]
    sql(
        "UPDATE credit_installmentplan SET principal = principal + 0.01 WHERE account_id = %s",
        cut.pk,
    )
    assert broken(ledger_check(), 5) == {cut.pk}


def test_invariant_5_catches_a_plan_missing_an_installment(book):
    frozen = book["frozen"]
    sql(
        "DELETE FROM credit_installment WHERE id = (SELECT MAX(id) FROM credit_installment "
        "WHERE account_id = %s)",
        frozen.pk,
    )
    assert frozen.pk in broken(ledger_check(), 5)


def test_invariant_6_catches_a_staff_limit_change_with_no_actor_and_no_run(book):
    busy = book["busy"]
    sql(
        "INSERT INTO credit_limitchange (account_id, kind, old_base_limit, new_base_limit, "
        "old_effective_limit, new_effective_limit, reason_codes, note, created_at) "
        "VALUES (%s, 'MANUAL_OVERRIDE', 10000, 10000, 10000, 10000, '{STAFF_DECISION}', '', now())",
        busy.pk,
    )
    assert broken(ledger_check(), 6) == {busy.pk}


def test_invariant_6_catches_a_limit_change_with_no_reason(book):
    busy = book["busy"]
    sql(
        "INSERT INTO credit_limitchange (account_id, kind, old_base_limit, new_base_limit, "
        "old_effective_limit, new_effective_limit, reason_codes, run_id, note, created_at) "
        "VALUES (%s, 'RESCORE', 10000, 10000, 10000, 10000, '{}', 3, '', now())",
        busy.pk,
    )
    assert broken(ledger_check(), 6) == {busy.pk}


def test_invariant_6_catches_a_limit_moved_without_a_limit_change(book):
    busy = book["busy"]
    sql("UPDATE credit_creditaccount SET base_limit = base_limit + 100 WHERE id = %s", busy.pk)
    assert broken(ledger_check(), 6) == {busy.pk}


def test_invariant_6_catches_a_status_changed_without_a_status_log(book):
    busy = book["busy"]
    sql("UPDATE credit_creditaccount SET status = 'FROZEN' WHERE id = %s", busy.pk)
    assert broken(ledger_check(), 6) == {busy.pk}


def test_invariant_6_catches_a_status_log_without_a_reason(book):
    cut = book["cut"]
    sql("UPDATE django_fsm_log_statelog SET description = '' WHERE object_id = %s", cut.pk)
    assert broken(ledger_check(), 6) == {cut.pk}


def test_invariant_7_catches_an_unbalanced_journal_entry(book):
    cut = book["cut"]
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql("ALTER TABLE credit_journalline DISABLE TRIGGER credit_journal_entry_balances")
    sql(
        "INSERT INTO credit_journalentry (kind, account_id, reference, memo, created_at) "
        "VALUES ('FEE', %s, 'planted', '', now())",
        cut.pk,
    )
    sql(
        "INSERT INTO credit_journalline (entry_id, ledger_account, account_id, debit, credit) "
        "SELECT id, 'RECEIVABLE_FEE', account_id, 5, 0 FROM credit_journalentry "
        "WHERE reference = 'planted'"
    )
    report = ledger_check()
    assert any(
        v.check.startswith("every journal entry balances") and v.account_id == cut.pk
        for v in report.violations
    )


def test_invariant_7_catches_an_entry_with_no_lines(book):
    cut = book["cut"]
    sql(
        "INSERT INTO credit_journalentry (kind, account_id, reference, memo, created_at) "
        "VALUES ('FEE', %s, 'empty', '', now())",
        cut.pk,
    )
    assert broken(ledger_check(), 7) == {cut.pk}


@pytest.mark.parametrize(
    ("ledger_account", "counter_account", "named"),
    [
        ("RECEIVABLE_PRINCIPAL", "MERCHANT_PAYABLE", "RECEIVABLE_PRINCIPAL"),
        ("RECEIVABLE_FEE", "FEE_INCOME", "RECEIVABLE_FEE"),
        ("RECEIVABLE_PENALTY", "PENALTY_INCOME", "RECEIVABLE_PENALTY"),
        ("CASH", "CUSTOMER_CREDIT", "CUSTOMER_CREDIT"),
    ],
)
def test_invariant_7_catches_a_ledger_balance_that_disagrees_with_the_account(
    book, ledger_account, counter_account, named
):
    busy = book["busy"]
    sql(
        "INSERT INTO credit_journalentry (kind, account_id, reference, memo, created_at) "
        "VALUES ('FEE', %s, 'planted', '', now())",
        busy.pk,
    )
    sql(
        "INSERT INTO credit_journalline (entry_id, ledger_account, account_id, debit, credit) "
        "SELECT id, %s, account_id, 1.00, 0 FROM credit_journalentry WHERE reference = 'planted' "
        "UNION ALL SELECT id, %s, account_id, 0, 1.00 FROM credit_journalentry "
        "WHERE reference = 'planted'",
        ledger_account,
        counter_account,
    )
    report = ledger_check()
    assert broken(report, 7) == {busy.pk}
    assert named in report.format()


@pytest.fixture
def verifying(book):
    """The busy account asked to verify (an OPEN challenge, the purchase maximum set)."""
    busy = book["busy"]
    at = shanghai(2026, 2, 20, 9, 0)
    flag = RiskFlag.objects.create(
        rule=RuleCode.SHARED_IP,
        subject="203.0.113.9",
        explanation="planted",
        created_at=at,
        updated_at=at,
    )
    challenge = verification_open(account=busy, flag=flag, now=at)
    busy.refresh_from_db()
    assert challenge is not None and busy.verification_purchase_max is not None
    return busy


def test_invariant_9_catches_an_open_verification_without_the_purchase_maximum(verifying):
    assert ledger_check().ok  # an open verification with its maximum is fine
    disable_verification_trigger()
    sql(
        "UPDATE credit_creditaccount SET verification_purchase_max = NULL WHERE id = %s",
        verifying.pk,
    )
    report = ledger_check()
    assert broken(report, 9) == {verifying.pk}
    assert "but no verification purchase maximum" in report.format()


def test_invariant_9_catches_a_purchase_maximum_with_no_open_verification(book):
    frozen = book["frozen"]
    disable_verification_trigger()
    sql("UPDATE credit_creditaccount SET verification_purchase_max = 500 WHERE id = %s", frozen.pk)
    report = ledger_check()
    assert broken(report, 9) == {frozen.pk}
    assert "with no open verification" in report.format()


@pytest.mark.parametrize(
    "plant",
    [
        "UPDATE credit_creditaccount SET verification_purchase_max = NULL WHERE id = %s",
        "UPDATE risk_verificationchallenge SET status = 'CANCELLED', closed_at = now() "
        "WHERE account_id = %s",
    ],
)
def test_the_database_refuses_at_commit_a_purchase_maximum_without_its_open_verification(
    verifying, plant
):
    """The deferred constraint trigger (risk migration 0009) checks at commit; IMMEDIATE here."""
    with (
        pytest.raises(IntegrityError, match="verification purchase maximum"),
        transaction.atomic(),  # the plant goes with its savepoint
    ):
        sql(plant, verifying.pk)
        sql("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_refuses_at_commit_a_purchase_maximum_with_no_verification(book):
    with (
        pytest.raises(IntegrityError, match="verification purchase maximum"),
        transaction.atomic(),
    ):
        sql(
            "UPDATE credit_creditaccount SET verification_purchase_max = 500 WHERE id = %s",
            book["busy"].pk,
        )
        sql("SET CONSTRAINTS ALL IMMEDIATE")
