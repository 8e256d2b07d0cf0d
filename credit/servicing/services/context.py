"""What every step of one day's close shares: the date, the clock, and how it audits.

The close for business date D is the batch that opens day D (beat runs it at 00:30): it
settles everything up to the end of D − 1. An installment due before D and still open is
D − due_date days past due; a temporary grant that ended before D's midnight expires; the
reminders written are the ones customers read on D.
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts.selectors import users_by_id
from core.events import Notice, publish_many
from credit.models import CreditAccount
from credit.services.notices import status_notice_context
from credit.transitions import audit_description


def bucket_sql(days: str) -> str:
    """The delinquency bucket of a days-past-due expression (models.bucket_for in SQL)."""
    return (
        f"(CASE WHEN {days} <= 0 THEN 'CURRENT' WHEN {days} <= 30 THEN 'DPD_1_30'"
        f" WHEN {days} <= 60 THEN 'DPD_31_60' WHEN {days} <= 90 THEN 'DPD_61_90'"
        " ELSE 'DPD_90_PLUS' END)"
    )


@dataclass
class Step:
    rows: int = 0
    events: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


@dataclass
class CloseContext:
    business_date: date
    now: datetime
    steps: dict[str, Step] = field(default_factory=dict)

    def __post_init__(self):
        self.current: Step | None = None
        zone = timezone.get_default_timezone()
        # Midnight opening the business date: grants ending (or starting) by then are due.
        self.cutoff = datetime.combine(self.business_date, clock(0), zone)
        # The instant business fields record (restored_at, status_changed_at, ended_at): the
        # run's time, or for a day closed late (catch-up) the last instant of that day, so
        # probation clocks count from the day the change belongs to.
        self.at = min(self.now, datetime.combine(self.business_date, clock.max, zone))
        self.note = f"close:{self.business_date.isoformat()}"
        self.content_type_id = ContentType.objects.get_for_model(CreditAccount).pk
        self.freeze_days = settings.SERVICING_FREEZE_DAYS_PAST_DUE
        self.cap_ratio: Decimal = settings.SERVICING_PROBATION_CAP_RATIO
        self.full_limit_days = settings.SERVICING_PROBATION_FULL_LIMIT_DAYS
        self.probation_days = settings.SERVICING_PROBATION_DAYS
        self.ending_notice_days = settings.SERVICING_GRANT_ENDING_NOTICE_DAYS

    def params(self, **extra) -> dict:
        return {
            "d": self.business_date,
            "now": self.now,
            "at": self.at,
            "cutoff": self.cutoff,
            "note": self.note,
            "content_type": self.content_type_id,
            **extra,
        }

    def description(self, codes: list[str]) -> str:
        return audit_description(codes, self.note)

    def step(self, name: str) -> "StepTimer":
        return StepTimer(self, name)

    # --- SQL ---------------------------------------------------------------------------------
    def execute(self, sql: str, params: dict | None = None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params if params is not None else self.params())
            return cursor.rowcount

    def fetch(self, sql: str, params: dict | None = None) -> list[dict]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params if params is not None else self.params())
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # --- notices -----------------------------------------------------------------------------
    def publish_each(self, rows: list[dict], build) -> int:
        """Publish one event per row: `build(row)` returns (event, context, dedupe_key) or None.

        The state change was set-based, and so are its notices: recipients loaded in bulk,
        every notice written through the outbox's door (core.events.publish_many)
        in one batch.
        """
        started = time.perf_counter()
        users = users_by_id(row["customer_id"] for row in rows)
        notices = []
        for row in rows:
            built = build(row)
            if built is not None:
                event, context, dedupe_key = built
                notices.append(Notice(event, users[row["customer_id"]], context, dedupe_key))
        publish_many(notices, now=self.now)
        if self.current is not None and rows:
            spent = self.current.extra.get("publish_seconds", 0.0)
            self.current.extra["publish_seconds"] = round(spent + time.perf_counter() - started, 3)
        return len(notices)

    def status_context(self, row: dict, codes: list[str]) -> dict:
        return status_notice_context(
            status=row["state"],
            reason_codes=codes,
            available=row["available"],
            effective_limit=row["new_effective"],
        )


class StepTimer:
    def __init__(self, ctx: CloseContext, name: str):
        self.ctx, self.name = ctx, name

    def __enter__(self) -> Step:
        self.started = time.perf_counter()
        self.result = self.ctx.steps.setdefault(self.name, Step())
        self.ctx.current = self.result
        return self.result

    def __exit__(self, *exc):
        self.result.seconds += time.perf_counter() - self.started
        self.ctx.current = None
        return False
