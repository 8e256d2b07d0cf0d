"""Set-based proofs of the credit invariants (architecture doc, invariants 1–7
and 9) over every account.

Each check is one SQL query that returns the rows breaking a rule, so the whole book is
checked in a handful of statements however many accounts there are. `manage.py check_ledger`
prints the report and exits non-zero on any violation; the test suite calls `ledger_check()`
after its concurrency runs and the end-to-end test runs the command on a real database.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connections

from credit.choices import InstallmentStatus
from credit.formulas import (
    amount_due_sql,
    available_sql,
    effective_limit_sql,
    fee_due_sql,
    installment_open_sql,
    may_purchase_sql,
    penalty_due_sql,
    principal_due_sql,
    sql_list,
    sql_literal,
    status_agrees_sql,
)
from credit.models import CreditAccount, LimitChangeKind

# Kinds a system process records without a person or a run (opening, the daily close).
AUTOMATIC_LIMIT_CHANGE_KINDS = (
    LimitChangeKind.ACCOUNT_OPEN,
    LimitChangeKind.TEMPORARY_GRANT,
    LimitChangeKind.TEMPORARY_EXPIRY,
    LimitChangeKind.PROBATION_STEP,
)

_EFFECTIVE = effective_limit_sql("a")
_AVAILABLE = available_sql("a")
_PRINCIPAL_DUE = principal_due_sql("i")
_AMOUNT_DUE = amount_due_sql("i")


@dataclass(frozen=True)
class Check:
    invariant: int
    name: str
    sql: str  # returns rows (account_id, object_id, detail)


CHECKS: tuple[Check, ...] = (
    Check(
        1,
        "outstanding principal = Σ unpaid principal of open installments",
        f"""
        SELECT a.id, NULL::bigint,
               'outstanding ' || a.outstanding_principal || ' ≠ unpaid installments '
               || COALESCE(SUM({_PRINCIPAL_DUE}), 0)
          FROM credit_creditaccount a
          LEFT JOIN credit_installment i ON i.account_id = a.id AND {installment_open_sql("i")}
         GROUP BY a.id
        HAVING a.outstanding_principal <> COALESCE(SUM({_PRINCIPAL_DUE}), 0)
        """,  # noqa: S608 - constants only
    ),
    Check(
        1,
        "a paid installment owes nothing",
        f"""
        SELECT i.account_id, i.id,
               'installment ' || i.id || ' is PAID but still owes ' || {_AMOUNT_DUE}
          FROM credit_installment i
         WHERE i.status = {sql_literal(InstallmentStatus.PAID)} AND {_AMOUNT_DUE} <> 0
        """,  # noqa: S608 - constants only
    ),
    Check(
        2,
        "NEGATIVE ⇔ available < 0 (outside FROZEN and CLOSED)",
        f"""
        SELECT a.id, NULL::bigint,
               'status ' || a.status || ' with available ' || {_AVAILABLE}
          FROM credit_creditaccount a
         WHERE NOT {status_agrees_sql("a")}
        """,  # noqa: S608 - constants only
    ),
    Check(
        3,
        "available ≥ 0 on every account that may purchase or is in good standing",
        f"""
        SELECT a.id, NULL::bigint,
               'status ' || a.status || ' with available ' || {_AVAILABLE}
          FROM credit_creditaccount a
         WHERE {may_purchase_sql("a")} AND {_AVAILABLE} < 0
        """,  # noqa: S608 - constants only
    ),
    Check(
        4,
        "Σ allocations of a repayment = its amount",
        """
        SELECT r.account_id, r.id,
               'repayment ' || r.id || ' of ' || r.amount || ' allocated '
               || COALESCE(SUM(al.amount), 0)
          FROM credit_repayment r
          LEFT JOIN credit_repaymentallocation al ON al.repayment_id = r.id
         GROUP BY r.id
        HAVING r.amount <> COALESCE(SUM(al.amount), 0)
        """,
    ),
    Check(
        4,
        "a repayment pays only its own account's installments",
        """
        SELECT r.account_id, r.id,
               'repayment ' || r.id || ' paid installment ' || i.id || ' of account ' || i.account_id
          FROM credit_repayment r
          JOIN credit_repaymentallocation al ON al.repayment_id = r.id
          JOIN credit_installment i ON i.id = al.installment_id
         WHERE i.account_id <> r.account_id
        """,
    ),
    Check(
        4,
        "a credit balance never waits beside something owed (it pays it)",
        f"""
        SELECT a.id, MIN(i.id),
               'credit balance ' || a.credit_balance || ' beside ' || COUNT(i.id)
               || ' open installment(s) owing ' || SUM({_AMOUNT_DUE})
          FROM credit_creditaccount a
          JOIN credit_installment i ON i.account_id = a.id AND {installment_open_sql("i")}
         WHERE a.credit_balance > 0
         GROUP BY a.id
        """,  # noqa: S608 - constants only
    ),
    Check(
        5,
        "installments of a plan sum exactly to its principal",
        """
        SELECT p.account_id, p.id,
               'plan ' || p.id || ' of ' || p.principal || ' has installments summing to '
               || COALESCE(SUM(i.principal), 0) || ' in ' || COUNT(i.id) || ' periods'
          FROM credit_installmentplan p
          LEFT JOIN credit_installment i ON i.plan_id = p.id
         GROUP BY p.id
        HAVING p.principal <> COALESCE(SUM(i.principal), 0) OR COUNT(i.id) <> p.term_months
        """,
    ),
    Check(
        6,
        "every limit change says who or which run, and why",
        f"""
        SELECT c.account_id, c.id,
               'limit change ' || c.id || ' (' || c.kind || ') has '
               || CASE WHEN cardinality(c.reason_codes) = 0 THEN 'no reason code'
                       ELSE 'no actor and no run' END
          FROM credit_limitchange c
         WHERE cardinality(c.reason_codes) = 0
            OR (c.actor_id IS NULL AND c.run_id IS NULL
                AND c.kind NOT IN {sql_list(AUTOMATIC_LIMIT_CHANGE_KINDS)})
        """,  # noqa: S608 - constants only
    ),
    Check(
        6,
        "the account's limits are those its last limit change recorded",
        f"""
        SELECT a.id, last.id,
               CASE WHEN last.id IS NULL THEN 'limit ' || a.base_limit || ' with no limit change'
                    ELSE 'base ' || a.base_limit || ' / effective ' || {_EFFECTIVE}
                         || ' but last limit change ' || last.id || ' recorded base '
                         || last.new_base_limit || ' / effective ' || last.new_effective_limit END
          FROM credit_creditaccount a
          LEFT JOIN LATERAL (
                SELECT c.id, c.new_base_limit, c.new_effective_limit
                  FROM credit_limitchange c
                 WHERE c.account_id = a.id
                 ORDER BY c.id DESC
                 LIMIT 1
          ) last ON TRUE
         WHERE (last.id IS NULL AND {_EFFECTIVE} <> 0)
            OR last.new_base_limit <> a.base_limit
            OR last.new_effective_limit <> {_EFFECTIVE}
        """,  # noqa: S608 - constants only
    ),
    Check(
        6,
        "the account's status is the one its last status log recorded",
        """
        SELECT a.id, last.id,
               CASE WHEN last.id IS NULL THEN 'status ' || a.status || ' with no status log'
                    ELSE 'status ' || a.status || ' but last status log ' || last.id
                         || ' recorded ' || last.state END
          FROM credit_creditaccount a
          LEFT JOIN LATERAL (
                SELECT s.id, s.state
                  FROM django_fsm_log_statelog s
                 WHERE s.content_type_id = %(content_type)s AND s.object_id = a.id
                 ORDER BY s.id DESC
                 LIMIT 1
          ) last ON TRUE
         WHERE (last.id IS NULL AND a.status <> 'ACTIVE') OR last.state <> a.status
        """,
    ),
    Check(
        6,
        "every status change gives its reason",
        """
        SELECT s.object_id, s.id, 'status log ' || s.id || ' (' || s.transition || ') has no reason'
          FROM django_fsm_log_statelog s
         WHERE s.content_type_id = %(content_type)s
           AND NULLIF(split_part(COALESCE(s.description, ''), ' | ', 1), '') IS NULL
        """,
    ),
    Check(
        7,
        "every journal entry balances and has lines on its own account",
        """
        SELECT e.account_id, e.id,
               'entry ' || e.id || ' (' || e.kind || ' ' || e.reference || '): debits '
               || COALESCE(SUM(l.debit), 0) || ', credits ' || COALESCE(SUM(l.credit), 0)
               || ', ' || COUNT(l.id) || ' lines, '
               || COUNT(l.id) FILTER (WHERE l.account_id <> e.account_id) || ' on another account'
          FROM credit_journalentry e
          LEFT JOIN credit_journalline l ON l.entry_id = e.id
         GROUP BY e.id
        HAVING COUNT(l.id) = 0
            OR COALESCE(SUM(l.debit), 0) <> COALESCE(SUM(l.credit), 0)
            OR COUNT(l.id) FILTER (WHERE l.account_id <> e.account_id) > 0
        """,
    ),
    Check(
        7,
        "ledger balances per account equal the account's numbers",
        f"""
        WITH ledger AS (
            SELECT l.account_id,
                   SUM(l.debit - l.credit) FILTER (WHERE l.ledger_account = 'RECEIVABLE_PRINCIPAL') AS principal,
                   SUM(l.debit - l.credit) FILTER (WHERE l.ledger_account = 'RECEIVABLE_FEE') AS fee,
                   SUM(l.debit - l.credit) FILTER (WHERE l.ledger_account = 'RECEIVABLE_PENALTY') AS penalty,
                   SUM(l.credit - l.debit) FILTER (WHERE l.ledger_account = 'CUSTOMER_CREDIT') AS credit
              FROM credit_journalline l
             GROUP BY l.account_id
        ), owed AS (
            SELECT i.account_id,
                   SUM({fee_due_sql("i")}) AS fee, SUM({penalty_due_sql("i")}) AS penalty
              FROM credit_installment i
             WHERE {installment_open_sql("i")}
             GROUP BY i.account_id
        ), compared AS (
            SELECT a.id,
                   a.outstanding_principal AS model_principal, COALESCE(ledger.principal, 0) AS ledger_principal,
                   COALESCE(owed.fee, 0) AS model_fee, COALESCE(ledger.fee, 0) AS ledger_fee,
                   COALESCE(owed.penalty, 0) AS model_penalty, COALESCE(ledger.penalty, 0) AS ledger_penalty,
                   a.credit_balance AS model_credit, COALESCE(ledger.credit, 0) AS ledger_credit
              FROM credit_creditaccount a
              LEFT JOIN ledger ON ledger.account_id = a.id
              LEFT JOIN owed ON owed.account_id = a.id
        )
        SELECT id, NULL::bigint, concat_ws('; ',
                   CASE WHEN model_principal <> ledger_principal THEN 'RECEIVABLE_PRINCIPAL '
                        || ledger_principal || ' ≠ outstanding principal ' || model_principal END,
                   CASE WHEN model_fee <> ledger_fee THEN 'RECEIVABLE_FEE '
                        || ledger_fee || ' ≠ unpaid fees ' || model_fee END,
                   CASE WHEN model_penalty <> ledger_penalty THEN 'RECEIVABLE_PENALTY '
                        || ledger_penalty || ' ≠ unpaid penalties ' || model_penalty END,
                   CASE WHEN model_credit <> ledger_credit THEN 'CUSTOMER_CREDIT '
                        || ledger_credit || ' ≠ credit balance ' || model_credit END)
          FROM compared
         WHERE model_principal <> ledger_principal OR model_fee <> ledger_fee
            OR model_penalty <> ledger_penalty OR model_credit <> ledger_credit
        """,  # noqa: S608 - constants only
    ),
    # Reads the risk app's table by name: ledger_check sits below credit.risk (import-linter),
    # so the challenge's OPEN status is written as its stored value.
    Check(
        9,
        "an account's verification purchase maximum is set iff it has an open verification",
        """
        SELECT a.id, v.id,
               CASE WHEN v.id IS NULL
                    THEN 'verification purchase maximum ' || a.verification_purchase_max
                         || ' with no open verification'
                    ELSE 'open verification ' || v.id || ' but no verification purchase maximum' END
          FROM credit_creditaccount a
          LEFT JOIN risk_verificationchallenge v ON v.account_id = a.id AND v.status = 'OPEN'
         WHERE (a.verification_purchase_max IS NULL) <> (v.id IS NULL)
        """,
    ),
)

_COUNTS = {
    "accounts": "SELECT COUNT(*) FROM credit_creditaccount",
    "plans": "SELECT COUNT(*) FROM credit_installmentplan",
    "installments": "SELECT COUNT(*) FROM credit_installment",
    "repayments": "SELECT COUNT(*) FROM credit_repayment",
    "journal entries": "SELECT COUNT(*) FROM credit_journalentry",
    "limit changes": "SELECT COUNT(*) FROM credit_limitchange",
    "status logs": (
        "SELECT COUNT(*) FROM django_fsm_log_statelog WHERE content_type_id = %(content_type)s"
    ),
}


@dataclass(frozen=True)
class Violation:
    invariant: int
    check: str
    account_id: int | None
    object_id: int | None
    detail: str


@dataclass
class LedgerReport:
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def invariants_broken(self) -> set[int]:
        return {v.invariant for v in self.violations}

    def format(self) -> str:
        lines = ["Checked " + ", ".join(f"{n} {what}" for what, n in self.counts.items()) + "."]
        for check in CHECKS:
            found = [v for v in self.violations if v.check == check.name]
            mark = "ok" if not found else f"{len(found)} VIOLATION(S)"
            lines.append(f"  [{check.invariant}] {check.name}: {mark}")
            for v in found:
                lines.append(f"      account {v.account_id}: {v.detail}")
        if self.ok:
            lines.append("Ledger OK: invariants 1–7 and 9 hold.")
        else:
            accounts = sorted({v.account_id for v in self.violations if v.account_id is not None})
            lines.append(
                f"{len(self.violations)} violation(s) of invariant(s) "
                f"{', '.join(map(str, sorted(self.invariants_broken())))}; "
                f"accounts: {', '.join(map(str, accounts))}"
            )
        return "\n".join(lines)


def ledger_check(*, using: str = "default") -> LedgerReport:
    """Run every check over the whole book; read-only."""
    params = {"content_type": ContentType.objects.db_manager(using).get_for_model(CreditAccount).pk}
    report = LedgerReport()
    with connections[using].cursor() as cursor:
        for what, sql in _COUNTS.items():
            cursor.execute(sql, params)
            report.counts[what] = cursor.fetchone()[0]
        for check in CHECKS:
            cursor.execute(check.sql, params)
            report.violations.extend(
                Violation(check.invariant, check.name, account_id, object_id, detail)
                for account_id, object_id, detail in cursor.fetchall()
            )
    return report
