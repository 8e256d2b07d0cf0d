"""Due reminders: one set-based statement per business date, safe to run again.

`reminders_generate(business_date=D, now=...)` writes the reminders customers should read
on day D, for every open installment (PENDING or OVERDUE):

    due in 3 days   due date = D + 3
    due today       due date = D
    overdue day 1   due date = D − 1
    overdue day 3   due date = D − 3
    overdue day 7   due date = D − 7

One reminder per account and due date (the amounts of that day's installments summed),
published set-based through `core.events.publish_select` (one outbox
row per channel, written by the notifications app in the same statement), dedupe key `reminder:<account, 12 digits>:<due date>:<event>`:
a re-run, or a catch-up that overlaps an earlier run, inserts nothing.

Catch-up rule. The servicing close calls this once per closed date, and after an outage it
catches up several dates at once, late. A reminder is written only while its moment lasts,
judged by today's date (from `now`, Asia/Shanghai): until the next reminder of the sequence
takes over, and for the last one a week.

    reminder        written while today is before
    due in 3 days   the due date             (from then on it is due today / overdue)
    due today       the day after the due date
    overdue day 1   due date + 3             (overdue day 3 takes over)
    overdue day 3   due date + 7             (overdue day 7 takes over)
    overdue day 7   due date + 14

So a catch-up for a date three days back writes no "due in 3 days" for something due
today, but still writes "overdue day 1" for an installment that is two days late. The texts
name the due date rather than counting days, so a reminder written a day late stays true.
A business date after today is refused: its reminders would go out early.

Past use. The same windows decide, when an outbox row is about to go out (the notifications
app asks through `core.events.notices_past_use`), whether a reminder written in time has
since gone stale — a "due today" still queued the day after (quiet hours, retries, a
backlog) — and a reminder whose (account, due date) has nothing left to pay (paid, refunded,
waived or moved by an extension) is past its use too. Such a row expires instead of going
out, on every channel; its in-app copy stays in the inbox.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core.events import EventType, PendingNotice, publish_select
from credit.formulas import amount_due_sql, installment_open_sql
from credit.servicing.errors import ReminderDateInFuture


@dataclass(frozen=True)
class ReminderRule:
    event: str
    days_after_due: int  # the business date the reminder belongs to, relative to the due date
    stale_from: int  # the first day, relative to the due date, on which it is not written


REMINDER_RULES = (
    ReminderRule(EventType.DUE_IN_3_DAYS, days_after_due=-3, stale_from=0),
    ReminderRule(EventType.DUE_TODAY, days_after_due=0, stale_from=1),
    ReminderRule(EventType.OVERDUE_DAY_1, days_after_due=1, stale_from=3),
    ReminderRule(EventType.OVERDUE_DAY_3, days_after_due=3, stale_from=7),
    ReminderRule(EventType.OVERDUE_DAY_7, days_after_due=7, stale_from=14),
)

# The reminders of each (account, due date) as notices (user_id, event, context, dedupe_key).
# The amount due of an installment is what remains of its principal, fee and penalty. The
# texts (context, dedupe key) are built once per reminder, in the aggregate. The dedupe key
# starts with the zero-padded account, so the outbox's rows go in in account order.
_REMINDERS = f"""
WITH kinds AS (
    SELECT * FROM unnest(%(due_dates)s::date[], %(events)s::text[]) AS k(due_date, event)
), open_installments AS (
    SELECT i.account_id, i.due_date, k.event,
           {amount_due_sql("i")} AS amount
    FROM credit_installment AS i
    JOIN kinds AS k ON k.due_date = i.due_date
    WHERE i.due_date = ANY(%(due_dates)s::date[]) AND {installment_open_sql("i")}
), reminders AS (
    SELECT account_id, event,
           jsonb_build_object(
               'amount', sum(amount)::text, 'due_date', due_date::text,
               'installments', count(*), 'account_id', account_id
           ) AS context,
           'reminder:' || lpad(account_id::text, 12, '0') || ':' || due_date::text || ':'
           || event AS dedupe_key
    FROM open_installments
    GROUP BY account_id, due_date, event
    HAVING sum(amount) > 0
)
SELECT a.customer_id AS user_id, r.event, r.context, r.dedupe_key
FROM reminders AS r
JOIN credit_creditaccount AS a ON a.id = r.account_id
"""  # noqa: S608 - constant SQL fragments, values are parameters

# Grouping a million installments in memory instead of spilling to disk (this transaction only).
_WORK_MEM = "SET LOCAL work_mem = '256MB'"


def reminder_kinds(*, business_date: date, today: date) -> list[tuple[date, str]]:
    """(due date, event) of the reminders for `business_date` whose moment lasts `today`."""
    kinds = []
    for rule in REMINDER_RULES:
        due_date = business_date - timedelta(days=rule.days_after_due)
        if today < due_date + timedelta(days=rule.stale_from):
            kinds.append((due_date, rule.event))
    return kinds


@transaction.atomic
def reminders_generate(*, business_date: date, now: datetime) -> int:
    """Publish the reminders for `business_date` (see the module's rules); returns outbox rows
    written."""
    today = timezone.localdate(now)
    if business_date > today:
        raise ReminderDateInFuture()
    kinds = reminder_kinds(business_date=business_date, today=today)
    if not kinds:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_WORK_MEM)
    return publish_select(
        select=_REMINDERS,
        params={
            "due_dates": [due_date for due_date, _event in kinds],
            "events": [event for _due_date, event in kinds],
        },
        events=[rule.event for rule in REMINDER_RULES],
        now=now,
    )


_RULES_BY_EVENT = {rule.event: rule for rule in REMINDER_RULES}

# Of the (notice, account, due date) triples, those whose due date has nothing left to pay.
_SETTLED = f"""
SELECT k.id
FROM unnest(%(ids)s::bigint[], %(accounts)s::bigint[], %(due_dates)s::date[])
     AS k(id, account_id, due_date)
WHERE NOT EXISTS (
    SELECT 1 FROM credit_installment AS i
    WHERE i.account_id = k.account_id AND i.due_date = k.due_date
      AND {installment_open_sql("i")} AND {amount_due_sql("i")} > 0
)
"""  # noqa: S608 - constant SQL fragments, values are parameters


def reminders_past_use(*, notices: list[PendingNotice], now: datetime) -> dict[int, str]:
    """{id: why} of the due reminders among `notices` that should no longer go out: their
    moment has passed (the windows of `REMINDER_RULES`, judged by today's date) or their due
    date has nothing left to pay. One query for the whole batch; none without reminders."""
    today = timezone.localdate(now)
    past: dict[int, str] = {}
    waiting: list[tuple[int, int, date]] = []
    for notice in notices:
        rule = _RULES_BY_EVENT.get(notice.event)
        if rule is None or "due_date" not in notice.context or "account_id" not in notice.context:
            continue
        due_date = date.fromisoformat(notice.context["due_date"])
        if today >= due_date + timedelta(days=rule.stale_from):
            past[notice.id] = (
                f"{notice.event.lower()} for {due_date} is out of date on {today}; "
                "the in-app notice carries it"
            )
        else:
            waiting.append((notice.id, int(notice.context["account_id"]), due_date))
    if waiting:
        with connection.cursor() as cursor:
            cursor.execute(
                _SETTLED,
                {
                    "ids": [pk for pk, _account, _due in waiting],
                    "accounts": [account for _pk, account, _due in waiting],
                    "due_dates": [due for _pk, _account, due in waiting],
                },
            )
            settled = {pk for (pk,) in cursor.fetchall()}
        for pk, _account, due_date in waiting:
            if pk in settled:
                past[pk] = f"nothing is left to pay for {due_date}; the in-app notice carries it"
    return past
