"""Set-based account updates that write their own audit rows in the same statement.

One statement moves every selected account, inserts a django-fsm-log StateLog row for each
status it changed and a LimitChange row for each limit it changed, and returns the moved
rows (old and new numbers) so the caller can publish the notices.
"""

from credit.formulas import available_sql, effective_limit_sql
from credit.servicing.services.context import CloseContext
from credit.transitions import Transition, state_log_sql

_TEMPLATE = """
WITH old AS (
    SELECT a.id, a.status, a.base_limit, {effective} AS effective_limit{old_extra}
    FROM {old_from}
), moved AS (
    UPDATE credit_creditaccount a SET {sets}
    FROM old WHERE a.id = old.id
    RETURNING a.id, a.customer_id, old.status AS source_state, a.status AS state,
              old.base_limit AS old_base, a.base_limit AS new_base,
              old.effective_limit AS old_effective, {effective} AS new_effective,
              {available} AS available{moved_extra}
){logged}{limited}
SELECT m.*{limit_column} FROM moved m{limit_join} ORDER BY m.id
"""

_LIMITED = """, limited AS (
    INSERT INTO credit_limitchange
        (account_id, kind, old_base_limit, new_base_limit, old_effective_limit,
         new_effective_limit, reason_codes, actor_id, run_id, note, created_at)
    SELECT m.id, %(limit_kind)s, m.old_base, m.new_base, m.old_effective, m.new_effective,
           %(limit_codes)s::varchar[], NULL, NULL, %(note)s, %(now)s
    FROM moved m WHERE m.old_effective <> m.new_effective OR m.old_base <> m.new_base
    ORDER BY m.id
    RETURNING id, account_id
)"""


def accounts_update(
    ctx: CloseContext,
    *,
    old_from: str,
    sets: str,
    transition: Transition | None,
    status_codes: list[str],
    limit_kind: str | None = None,
    limit_codes: list[str] | None = None,
    old_extra: str = "",
    moved_extra: str = "",
    params: dict | None = None,
) -> list[dict]:
    """Update the accounts `old_from` selects (`FROM … WHERE …` over `credit_creditaccount a`).

    `sets` may read the old row (`a.`) and the selected extras (`old.`); a status change
    takes its SET clause from the `transition` spec. Rows whose status changed get a
    StateLog (`transition`, `status_codes`); rows whose limits changed get a LimitChange of
    `limit_kind` when one is given. Returns the moved rows with `limit_change_id` (None when
    no limit changed).
    """
    sql = _TEMPLATE.format(
        effective=effective_limit_sql("a"),
        available=available_sql("a"),
        old_extra=old_extra,
        old_from=old_from,
        sets=sets,
        moved_extra=moved_extra,
        logged=f", logged AS ({state_log_sql('moved m')})" if transition else "",
        limited=_LIMITED if limit_kind else "",
        limit_column=", l.id AS limit_change_id" if limit_kind else ", NULL AS limit_change_id",
        limit_join=" LEFT JOIN limited l ON l.account_id = m.id" if limit_kind else "",
    )
    return ctx.fetch(
        sql,
        ctx.params(
            transition=transition.name if transition else None,
            description=ctx.description(status_codes),
            by=None,
            status_codes=list(status_codes),
            limit_kind=limit_kind,
            limit_codes=list(limit_codes or []),
            **(params or {}),
        ),
    )
