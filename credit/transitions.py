"""Every account state change once: freeze, unfreeze, go_negative, recover, graduate, close,
reverse.

A `Transition` spec says which states it leaves, the state it reaches, what it assigns to
the row (each field as a Python function and as an SQL expression side by side), the
reason codes it records by default, the LimitChange kind it writes when it also moves the
usable limit (the close's probation steps) and the event the customer hears. Both paths
derive from it: the django-fsm methods of `CreditAccount` (one account, in a service) take
source and target from the spec and apply its Python side; the set-based statements of the
servicing close build their WHERE filter and SET clause from its SQL side. Their StateLog
rows are written by one INSERT (`state_log_sql`), dated at the injected instant.

SQL fragments are written over the account row aliased `{a}`; parameters: `%(at)s` (the
business instant), `%(freeze_reason)s` (freeze), and the reason codes expression `{codes}`
(by default `%(status_codes)s`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_fsm import RETURN_VALUE

from core.events import EventType
from core.reasons import ReasonCode
from credit.choices import AccountStatus, FreezeReason, LimitChangeKind
from credit.formulas import sql_list, sql_literal

FREEZE_REASON_CODES = {
    FreezeReason.OVERDUE: ReasonCode.OVERDUE,
    FreezeReason.RISK_RULE: ReasonCode.RISK_FLAG,
    FreezeReason.SHARED_IP: ReasonCode.SHARED_IP,
    FreezeReason.STAFF: ReasonCode.STAFF_DECISION,
    FreezeReason.COMPLIANCE: ReasonCode.COMPLIANCE,
    FreezeReason.VERIFY_FAILED: ReasonCode.VERIFICATION_FAILED,
    FreezeReason.VERIFY_TIMEOUT: ReasonCode.VERIFICATION_TIMEOUT,
}


def audit_description(reason_codes: list[str], note: str = "", run_id: int | None = None) -> str:
    """The StateLog description: machine-readable codes first, then who/what and the note."""
    parts = [",".join(reason_codes)]
    if run_id is not None:
        parts.append(f"run={run_id}")
    if note:
        parts.append(note)
    return " | ".join(parts)


def audit_reason_codes(description: str | None) -> list[str]:
    """The reason codes an `audit_description` starts with (the rest is staff's, not shown)."""
    head = (description or "").split(" | ", 1)[0]
    return [code for code in head.split(",") if code]


def sql_status_in(alias: str, states) -> str:
    return f"{alias}.status IN {sql_list(states)}"


def sql_freeze_reason(reason: str) -> str:
    """A freeze reason as an element of `freeze_reasons` in SQL."""
    return f"{sql_literal(reason)}::varchar"


def freeze_reasons_with(reasons: list[str], reason: str) -> list[str]:
    """The freeze reasons once `reason` joins them (sorted, as the SQL side sorts them)."""
    return sorted({*reasons, reason})


@dataclass(frozen=True)
class Change:
    """What a transition knows besides the row: when, why, and which freeze reason."""

    at: datetime
    reason_codes: list[str]
    freeze_reason: str | None = None


@dataclass(frozen=True)
class Assignment:
    field: str
    python: Callable[[Any, Change], Any]
    sql: str


_STAMP = Assignment("status_changed_at", lambda account, change: change.at, "%(at)s")
_CODES = Assignment(
    "status_reason_codes", lambda account, change: list(change.reason_codes), "{codes}"
)
_KEEP_PRE_INCIDENT = Assignment(
    "pre_incident_limit",
    lambda account, change: (
        account.base_limit if account.pre_incident_limit is None else account.pre_incident_limit
    ),
    "COALESCE({a}.pre_incident_limit, {a}.base_limit)",
)


@dataclass(frozen=True)
class Transition:
    name: str
    source: tuple[str, ...]
    target: str
    assignments: tuple[Assignment, ...]
    event: str | None
    reasons: tuple[str, ...] = ()
    limit_kind: str | None = None
    # The target instead while available credit is below zero (unfreeze lands NEGATIVE).
    target_when_short: str | None = None

    @property
    def fsm_target(self):
        if self.target_when_short is None:
            return self.target
        return RETURN_VALUE(self.target, self.target_when_short)

    def target_for(self, account) -> str:
        if self.target_when_short is not None and account.available < 0:
            return self.target_when_short
        return self.target

    def apply(self, account, change: Change) -> str:
        """Assign the spec's fields on `account` (every value read from the row as it was,
        like an SQL SET) and return the target state for the FSM."""
        target = self.target_for(account)
        values = {a.field: a.python(account, change) for a in self.assignments}
        for name, value in values.items():
            setattr(account, name, value)
        return target

    # --- SQL ---------------------------------------------------------------------------------
    def sql_source_filter(self, alias: str = "a") -> str:
        return sql_status_in(alias, self.source)

    def sql_values(
        self, *, alias: str = "a", available: str = "", codes: str = "%(status_codes)s::varchar[]"
    ) -> dict[str, str]:
        """Column → SQL expression; `available` (the row's available credit, as the
        statement computes it) is needed only by a spec with `target_when_short`."""
        status = sql_literal(self.target)
        if self.target_when_short is not None:
            status = (
                f"CASE WHEN {available} >= 0 THEN {status}"
                f" ELSE {sql_literal(self.target_when_short)} END"
            )
        return {
            "status": status,
            **{
                a.field: a.sql.format(a=alias, available=available, codes=codes)
                for a in self.assignments
            },
        }

    def sql_set(self, **kwargs) -> str:
        """The SET clause of this transition (see `sql_values`)."""
        return ", ".join(f"{name} = {value}" for name, value in self.sql_values(**kwargs).items())


S = AccountStatus

FREEZE = Transition(
    name="freeze",
    source=(S.ACTIVE, S.NEGATIVE, S.RESTORED),
    target=S.FROZEN,
    assignments=(
        _KEEP_PRE_INCIDENT,
        Assignment(
            "freeze_reasons",
            lambda account, change: freeze_reasons_with(
                account.freeze_reasons, change.freeze_reason
            ),
            "ARRAY(SELECT DISTINCT r FROM unnest(array_append({a}.freeze_reasons,"
            " %(freeze_reason)s::varchar)) AS r ORDER BY r)",
        ),
        _STAMP,
        _CODES,
    ),
    event=EventType.ACCOUNT_FROZEN,
)
UNFREEZE = Transition(
    name="unfreeze",
    source=(S.FROZEN,),
    target=S.RESTORED,
    target_when_short=S.NEGATIVE,
    assignments=(
        Assignment("freeze_reasons", lambda account, change: [], "'{{}}'"),
        Assignment(
            "restored_at",
            lambda account, change: change.at if account.available >= 0 else account.restored_at,
            "CASE WHEN {available} >= 0 THEN %(at)s ELSE {a}.restored_at END",
        ),
        _STAMP,
        _CODES,
    ),
    event=EventType.ACCOUNT_UNFROZEN,
    reasons=(ReasonCode.STAFF_DECISION,),
    limit_kind=LimitChangeKind.PROBATION_STEP,
)
GO_NEGATIVE = Transition(
    name="go_negative",
    source=(S.ACTIVE, S.RESTORED),
    target=S.NEGATIVE,
    assignments=(_KEEP_PRE_INCIDENT, _STAMP, _CODES),
    event=EventType.ACCOUNT_NEGATIVE,
)
RECOVER = Transition(
    name="recover",
    source=(S.NEGATIVE,),
    target=S.RESTORED,
    assignments=(
        Assignment("restored_at", lambda account, change: change.at, "%(at)s"),
        _STAMP,
        _CODES,
    ),
    event=EventType.ACCOUNT_RESTORED,
)
GRADUATE = Transition(
    name="graduate",
    source=(S.RESTORED,),
    target=S.ACTIVE,
    assignments=(
        Assignment("pre_incident_limit", lambda account, change: None, "NULL"),
        Assignment("probation_limit_cap", lambda account, change: None, "NULL"),
        Assignment("restored_at", lambda account, change: None, "NULL"),
        _STAMP,
        _CODES,
    ),
    event=None,  # the close announces the limit coming back (LIMIT_RAISED)
    reasons=(ReasonCode.PROBATION_COMPLETE,),
    limit_kind=LimitChangeKind.PROBATION_STEP,
)
# A decision found wrong (a cleared false alarm, an upheld appeal, a rolled-back run, staff's
# "our error"): back to where the account would be without it — ACTIVE, no probation, no
# pre-incident limit — or NEGATIVE when it owes more than its limit even so.
REVERSE = Transition(
    name="reverse",
    source=(S.FROZEN, S.NEGATIVE, S.RESTORED),
    target=S.ACTIVE,
    target_when_short=S.NEGATIVE,
    assignments=(
        Assignment("freeze_reasons", lambda account, change: [], "'{{}}'"),
        Assignment("pre_incident_limit", lambda account, change: None, "NULL"),
        Assignment("probation_limit_cap", lambda account, change: None, "NULL"),
        Assignment("restored_at", lambda account, change: None, "NULL"),
        _STAMP,
        _CODES,
    ),
    event=EventType.DECISION_REVERSED,
    reasons=(ReasonCode.OUR_ERROR,),
    limit_kind=LimitChangeKind.REVERSAL,
)
CLOSE = Transition(
    name="close",
    source=(S.ACTIVE, S.RESTORED, S.FROZEN),
    target=S.CLOSED,
    assignments=(
        Assignment("closed_at", lambda account, change: change.at, "%(at)s"),
        _STAMP,
        _CODES,
    ),
    event=None,
    reasons=(ReasonCode.CUSTOMER_REQUEST,),
)
TRANSITIONS = (FREEZE, UNFREEZE, GO_NEGATIVE, RECOVER, GRADUATE, REVERSE, CLOSE)


def sql_set_branches(branches: list[tuple[str, Transition, str]], *, alias: str = "a") -> str:
    """The SET clause of a statement in which each row takes at most one of several
    transitions: `branches` are (condition, spec, reason codes expression); a row meeting
    no condition keeps its values."""
    per_branch = [
        (condition, spec.sql_values(alias=alias, codes=codes))
        for condition, spec, codes in branches
    ]
    fields = list(dict.fromkeys(name for _, values in per_branch for name in values))
    clauses = []
    for name in fields:
        whens = " ".join(
            f"WHEN {condition} THEN {values[name]}"
            for condition, values in per_branch
            if name in values
        )
        clauses.append(f"{name} = CASE {whens} ELSE {alias}.{name} END")
    return ",\n".join(clauses)


def sql_by_target(column: str, values: dict[Transition, str]) -> str:
    """An SQL expression picking, by the row's new state, a value per transition."""
    whens = " ".join(f"WHEN {sql_literal(spec.target)} THEN {v}" for spec, v in values.items())
    return f"CASE {column} {whens} END"


def state_log_sql(
    moved: str, *, transition: str = "%(transition)s", description: str = "%(description)s"
) -> str:
    """The one INSERT of account StateLog rows, dated at the injected `%(now)s`.

    `moved` is an SQL FROM item aliased `m` with `id`, `source_state` and `state`; a row is
    logged when its state changed. Parameters: `now`, `by` (a user id or NULL),
    `content_type`, and those `transition` / `description` name. The set-based paths embed
    it in their UPDATE statement; the FSM path runs it for one row (`state_log_write`).
    """
    return f"""INSERT INTO django_fsm_log_statelog
        ("timestamp", by_id, source_state, state, transition, content_type_id, object_id,
         description)
    SELECT %(now)s, %(by)s, m.source_state, m.state, {transition}, %(content_type)s, m.id,
           {description}
      FROM {moved} WHERE m.source_state <> m.state"""  # noqa: S608 - code constants only


_ONE_ROW = "(VALUES (%(id)s, %(source)s, %(target)s)) AS m (id, source_state, state)"


def state_log_write(sender, instance, name, source, target, method_kwargs, **kwargs) -> None:
    """django-fsm `post_transition` receiver for CreditAccount (connected in CreditConfig.ready;
    django-fsm-log ignores the model): the transition's StateLog row, dated at its `at`."""
    by = method_kwargs.get("by")
    with connection.cursor() as cursor:
        cursor.execute(
            state_log_sql(_ONE_ROW),
            {
                "now": method_kwargs["at"],
                "by": by.pk if by is not None else None,
                "content_type": ContentType.objects.get_for_model(sender).pk,
                "id": instance.pk,
                "source": source,
                "target": target,
                "transition": name,
                "description": method_kwargs.get("description"),
            },
        )
