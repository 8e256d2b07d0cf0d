"""The CreditAccount lifecycle: every allowed transition works, every other is refused.

The table is the architecture doc's; each (state × transition) pair is tried on an account
whose numbers satisfy the transition's condition, and again where they do not.
"""

from decimal import Decimal

import pytest
from django_fsm import TransitionNotAllowed, can_proceed
from django_fsm_log.models import StateLog

from conftest import shanghai
from core.reasons import ReasonCode
from credit.formulas import available_sql
from credit.ledger_check import ledger_check
from credit.models import AccountStatus, CreditAccount, FreezeReason, LimitChangeKind
from credit.services import account_close, account_freeze, account_unfreeze, limit_set
from credit.servicing.services.audit import accounts_update
from credit.servicing.services.context import CloseContext
from credit.transitions import (
    CLOSE,
    FREEZE,
    GO_NEGATIVE,
    GRADUATE,
    RECOVER,
    REVERSE,
    UNFREEZE,
)
from credit.transitions import (
    TRANSITIONS as SPECS,
)
from testkit import people
from testkit.credit import buy, open_account, repay

D = Decimal
S = AccountStatus
pytestmark = pytest.mark.django_db
NOW = shanghai(2026, 3, 10, 10, 0)
STATES = list(S)
TRANSITIONS = ["freeze", "unfreeze", "go_negative", "recover", "graduate", "reverse", "close"]

# (source, transition) → target when the transition's condition holds.
ALLOWED = {
    (S.ACTIVE, "freeze"): S.FROZEN,
    (S.NEGATIVE, "freeze"): S.FROZEN,
    (S.RESTORED, "freeze"): S.FROZEN,
    (S.FROZEN, "unfreeze"): S.RESTORED,  # or NEGATIVE while available < 0, see below
    (S.ACTIVE, "go_negative"): S.NEGATIVE,
    (S.RESTORED, "go_negative"): S.NEGATIVE,
    (S.NEGATIVE, "recover"): S.RESTORED,
    (S.RESTORED, "graduate"): S.ACTIVE,
    (S.FROZEN, "reverse"): S.ACTIVE,  # a wrong decision reversed: no probation
    (S.NEGATIVE, "reverse"): S.ACTIVE,  # or NEGATIVE while available < 0
    (S.RESTORED, "reverse"): S.ACTIVE,
    (S.ACTIVE, "close"): S.CLOSED,
    (S.RESTORED, "close"): S.CLOSED,
    (S.FROZEN, "close"): S.CLOSED,
}


def account_in(status: str, *, outstanding: str | None = None) -> CreditAccount:
    """An account opened by the service, then put in `status` with one UPDATE (the field is
    protected, and reaching every state through the services is what the service tests do).

    It is saved coherent (the CHECK constraint holds); `outstanding` then changes the number
    in memory only, as a service does just before it calls a transition.
    """
    opened = open_account(base_limit="1000.00")
    CreditAccount.objects.filter(pk=opened.pk).update(
        status=status,
        outstanding_principal=D("1500.00") if status == S.NEGATIVE else D("0.00"),
    )
    account = CreditAccount.objects.get(pk=opened.pk)
    if outstanding is not None:
        account.outstanding_principal = D(outstanding)
    return account


def numbers_meeting_the_condition(status: str, transition: str) -> dict:
    """Numbers under which the transition's own condition holds (and the state is coherent)."""
    if transition == "go_negative":
        return {"outstanding": "1500.00"}  # available −500
    if status == S.NEGATIVE and transition in ("recover", "reverse"):
        return {"outstanding": "0.00"}
    return {}  # as saved: zero balance, or below zero when NEGATIVE


def call(account: CreditAccount, transition: str):
    method = getattr(account, transition)
    if transition == "freeze":
        return method(reason=FreezeReason.STAFF, at=NOW)
    return method(at=NOW)


@pytest.mark.parametrize("transition", TRANSITIONS)
@pytest.mark.parametrize("status", STATES)
def test_each_state_allows_exactly_the_transitions_of_the_table(status, transition):
    account = account_in(status, **numbers_meeting_the_condition(status, transition))
    allowed = (status, transition) in ALLOWED
    assert can_proceed(getattr(account, transition)) is allowed
    if allowed:
        call(account, transition)
        assert account.status == ALLOWED[(status, transition)]
        assert account.status_changed_at == NOW
        log = StateLog.objects.for_(account).get()
        assert (log.source_state, log.state, log.transition) == (status, account.status, transition)
    else:
        with pytest.raises(TransitionNotAllowed):
            call(account, transition)
        assert account.status == status
        assert not StateLog.objects.for_(account).exists()


def test_go_negative_is_refused_while_available_is_not_below_zero():
    for status in (S.ACTIVE, S.RESTORED):
        account = account_in(status, outstanding="1000.00")  # available exactly 0
        assert not can_proceed(account.go_negative)
        with pytest.raises(TransitionNotAllowed):
            account.go_negative(at=NOW)


def test_recover_is_refused_while_available_is_below_zero():
    account = account_in(S.NEGATIVE, outstanding="1000.01")
    assert not can_proceed(account.recover)
    with pytest.raises(TransitionNotAllowed):
        account.recover(at=NOW)


@pytest.mark.parametrize("status", [S.ACTIVE, S.RESTORED, S.FROZEN])
def test_close_is_refused_with_a_balance_either_way(status):
    owes = account_in(status, outstanding="0.01")
    assert not can_proceed(owes.close)
    holds = account_in(status)
    holds.credit_balance = D("0.01")
    assert not can_proceed(holds.close)


def test_unfreeze_lands_in_negative_while_available_is_below_zero():
    account = account_in(S.FROZEN, outstanding="1000.01")
    account.unfreeze(at=NOW)
    assert (account.status, account.restored_at) == (S.NEGATIVE, None)


def test_reverse_lands_active_without_probation_or_negative_while_still_short():
    frozen = account_in(S.FROZEN, outstanding="300.00")
    frozen.pre_incident_limit, frozen.restored_at = D("1000.00"), NOW
    frozen.reverse(at=NOW)
    assert frozen.status == S.ACTIVE
    assert (frozen.pre_incident_limit, frozen.probation_limit_cap, frozen.restored_at) == (
        None,
        None,
        None,
    )
    assert frozen.status_reason_codes == [ReasonCode.OUR_ERROR]
    short = account_in(S.FROZEN, outstanding="1000.01")
    short.reverse(at=NOW)
    assert short.status == S.NEGATIVE


def test_graduation_ends_probation():
    account = account_in(S.RESTORED)
    account.probation_limit_cap = D("500.00")
    account.pre_incident_limit = D("1000.00")
    account.graduate(at=NOW)
    assert (account.probation_limit_cap, account.pre_incident_limit) == (None, None)


def test_the_status_field_cannot_be_set_by_hand():
    account = account_in(S.ACTIVE)
    with pytest.raises(AttributeError):
        account.status = S.CLOSED


# --- through the services: each transition logged -------------------------------------


def test_a_full_lifecycle_through_the_services_logs_every_transition():
    officer = people.officer()
    account = open_account(base_limit="1000.00")
    buy(account, "900.00", term=1, now=shanghai(2026, 1, 6, 12, 0))
    limit_set(  # ACTIVE → NEGATIVE
        account=account,
        new_base_limit=D("600.00"),
        kind=LimitChangeKind.RESCORE,
        reason_codes=[ReasonCode.RESCORE],
        run_id=1,
        now=shanghai(2026, 1, 7, 2, 0),
    )
    account_freeze(  # NEGATIVE → FROZEN
        account=account, reason=FreezeReason.OVERDUE, now=shanghai(2026, 2, 20, 2, 0)
    )
    account_unfreeze(  # FROZEN → NEGATIVE (still below zero)
        account=account, actor=officer, note="paid at the branch", now=shanghai(2026, 2, 21, 9, 0)
    )
    repay(account, "900.00", now=shanghai(2026, 2, 21, 10, 0))  # NEGATIVE → RESTORED
    account_freeze(  # RESTORED → FROZEN
        account=account, reason=FreezeReason.COMPLIANCE, now=shanghai(2026, 2, 22, 9, 0)
    )
    account_unfreeze(account=account, now=shanghai(2026, 2, 23, 9, 0))  # FROZEN → RESTORED
    account.refresh_from_db()
    account.graduate(at=shanghai(2026, 5, 23, 2, 0), description="PROBATION_COMPLETE")
    account.save()  # RESTORED → ACTIVE (servicing does this set-based)
    account_close(account=account, now=shanghai(2026, 6, 1, 9, 0))  # ACTIVE → CLOSED

    steps = [
        (log.source_state, log.state, log.transition)
        for log in StateLog.objects.for_(account).order_by("id")
    ]
    stamps = [log.timestamp for log in StateLog.objects.for_(account).order_by("id")]
    assert stamps[:6] == [
        shanghai(2026, 1, 7, 2, 0),
        shanghai(2026, 2, 20, 2, 0),
        shanghai(2026, 2, 21, 9, 0),
        shanghai(2026, 2, 21, 10, 0),
        shanghai(2026, 2, 22, 9, 0),
        shanghai(2026, 2, 23, 9, 0),
    ]
    assert stamps[7] == shanghai(2026, 6, 1, 9, 0)
    assert steps == [
        ("ACTIVE", "NEGATIVE", "go_negative"),
        ("NEGATIVE", "FROZEN", "freeze"),
        ("FROZEN", "NEGATIVE", "unfreeze"),
        ("NEGATIVE", "RESTORED", "recover"),
        ("RESTORED", "FROZEN", "freeze"),
        ("FROZEN", "RESTORED", "unfreeze"),
        ("RESTORED", "ACTIVE", "graduate"),
        ("ACTIVE", "CLOSED", "close"),
    ]
    assert ledger_check().ok


# --- one spec, two paths: the FSM method and the set-based statement agree --------------

# (spec, source state, numbers saved, numbers changed in the same step, freeze reason)
PARITY_CASES = [
    (FREEZE, S.ACTIVE, {}, {}, FreezeReason.OVERDUE),
    (FREEZE, S.NEGATIVE, {"outstanding_principal": D("1500.00")}, {}, FreezeReason.OVERDUE),
    (  # on probation: the limit before the first incident is kept
        FREEZE,
        S.RESTORED,
        {"pre_incident_limit": D("1500.00"), "probation_limit_cap": D("800.00")},
        {},
        FreezeReason.STAFF,
    ),
    (UNFREEZE, S.FROZEN, {"outstanding_principal": D("400.00")}, {}, None),
    (UNFREEZE, S.FROZEN, {"outstanding_principal": D("1200.00")}, {}, None),
    (  # a temporary limit ends under what is owed
        GO_NEGATIVE,
        S.ACTIVE,
        {"temporary_limit": D("500.00"), "outstanding_principal": D("1200.00")},
        {"temporary_limit": D("0.00")},
        None,
    ),
    (
        GO_NEGATIVE,
        S.RESTORED,
        {"temporary_limit": D("500.00"), "outstanding_principal": D("1200.00")},
        {"temporary_limit": D("0.00")},
        None,
    ),
    (  # a temporary limit starts and covers what is owed
        RECOVER,
        S.NEGATIVE,
        {"outstanding_principal": D("1200.00")},
        {"temporary_limit": D("500.00")},
        None,
    ),
    (
        GRADUATE,
        S.RESTORED,
        {
            "pre_incident_limit": D("1000.00"),
            "probation_limit_cap": D("500.00"),
            "restored_at": shanghai(2025, 12, 1, 9, 0),
            "outstanding_principal": D("300.00"),
        },
        {},
        None,
    ),
    (  # a wrong freeze reversed: ACTIVE, the pre-incident limit forgotten
        REVERSE,
        S.FROZEN,
        {"pre_incident_limit": D("1000.00"), "freeze_reasons": [FreezeReason.SHARED_IP]},
        {},
        None,
    ),
    (  # … or NEGATIVE when it owes more than its limit even so
        REVERSE,
        S.FROZEN,
        {"freeze_reasons": [FreezeReason.STAFF], "outstanding_principal": D("1500.00")},
        {},
        None,
    ),
    (  # a wrong probation ended: no cap, no pre-incident limit
        REVERSE,
        S.RESTORED,
        {
            "pre_incident_limit": D("1000.00"),
            "probation_limit_cap": D("500.00"),
            "restored_at": shanghai(2026, 3, 1, 9, 0),
            "outstanding_principal": D("300.00"),
        },
        {},
        None,
    ),
    *[(CLOSE, state, {}, {}, None) for state in (S.ACTIVE, S.RESTORED, S.FROZEN)],
]
ROW_FIELDS = [
    f.attname
    for f in CreditAccount._meta.concrete_fields
    if f.attname not in ("id", "customer_id", "opened_at")
]


def twin(state: str, saved: dict) -> CreditAccount:
    opened = open_account(base_limit="1000.00")
    CreditAccount.objects.filter(pk=opened.pk).update(
        status=state, status_changed_at=shanghai(2026, 1, 1, 9, 0), **saved
    )
    return CreditAccount.objects.get(pk=opened.pk)


def row_and_log(account: CreditAccount) -> tuple[dict, tuple]:
    account.refresh_from_db()
    log = StateLog.objects.for_(account).get()
    return (
        {name: getattr(account, name) for name in ROW_FIELDS},
        (log.source_state, log.state, log.transition, log.by_id, log.description, log.timestamp),
    )


@pytest.mark.parametrize(
    ("spec", "state", "saved", "changed", "freeze_reason"),
    PARITY_CASES,
    ids=[f"{case[0].name}-{case[1]}-{i}" for i, case in enumerate(PARITY_CASES)],
)
def test_a_bulk_transition_leaves_the_same_row_and_log_as_the_fsm_method(
    spec, state, saved, changed, freeze_reason
):
    ctx = CloseContext(business_date=NOW.date(), now=NOW)
    codes = [ReasonCode.OVERDUE] if spec is FREEZE else list(spec.reasons or [ReasonCode.RESCORE])
    by_method, by_statement = twin(state, saved), twin(state, saved)

    for name, value in changed.items():
        setattr(by_method, name, value)
    transition = getattr(by_method, spec.name)
    extra = {"reason": freeze_reason} if freeze_reason else {}
    transition(at=NOW, description=ctx.description(codes), reason_codes=codes, **extra)
    by_method.save()

    moved = accounts_update(
        ctx,
        old_from=f"credit_creditaccount a WHERE a.id = %(id)s AND {spec.sql_source_filter('a')}",
        sets=", ".join(
            [f"{name} = %(new_{name})s" for name in changed]
            + [spec.sql_set(available=available_sql("a"))]
        ),
        transition=spec,
        status_codes=codes,
        params={
            "id": by_statement.pk,
            "freeze_reason": freeze_reason,
            **{f"new_{name}": value for name, value in changed.items()},
        },
    )

    assert len(moved) == 1
    method_row, method_log = row_and_log(by_method)
    statement_row, statement_log = row_and_log(by_statement)
    assert method_row["status"] in (spec.target, spec.target_when_short)
    assert statement_row == method_row
    assert statement_log == method_log
    assert method_log[5] == NOW


def test_the_statement_leaves_an_account_outside_the_source_states_alone():
    ctx = CloseContext(business_date=NOW.date(), now=NOW)
    active = twin(S.ACTIVE, {})
    moved = accounts_update(
        ctx,
        old_from=f"credit_creditaccount a WHERE a.id = %(id)s AND {UNFREEZE.sql_source_filter()}",
        sets=UNFREEZE.sql_set(available=available_sql("a")),
        transition=UNFREEZE,
        status_codes=[ReasonCode.OVERDUE_CURED],
        params={"id": active.pk},
    )
    assert moved == []
    active.refresh_from_db()
    assert active.status == S.ACTIVE


def test_a_transition_called_directly_is_logged_once_at_its_instant_with_who_and_why():
    officer = people.officer()
    account = account_in(S.RESTORED)
    account.graduate(at=NOW, by=officer, description="PROBATION_COMPLETE | test")
    log = StateLog.objects.for_(account).get()
    assert (log.timestamp, log.by, log.description) == (NOW, officer, "PROBATION_COMPLETE | test")
    assert account.status_reason_codes == [ReasonCode.PROBATION_COMPLETE]


def test_the_fsm_takes_sources_and_targets_from_the_specs():
    for spec in SPECS:
        fsm = getattr(CreditAccount, spec.name)._django_fsm
        targets = {fsm.next_state(source) for source in spec.source}
        assert set(fsm.transitions) == set(spec.source), spec.name
        if spec.target_when_short is None:
            assert targets == {spec.target}, spec.name
        else:
            (returned,) = targets
            assert set(returned.allowed_states) == {spec.target, spec.target_when_short}
