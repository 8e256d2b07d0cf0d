"""`manage.py close_business_day [--date YYYY-MM-DD]`: the same close as the beat task."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from credit.servicing.errors import BusinessDateInFuture
from credit.servicing.services import business_day_close, business_day_last_closed


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Close the business date (default: today in Asia/Shanghai), first every missed date "
        "since the last close, in order. Closing a closed date changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", dest="business_date", type=_date, help="Business date, YYYY-MM-DD."
        )

    def handle(self, *args, business_date: date | None = None, **options):
        now = timezone.now()
        business_date = business_date or timezone.localdate(now)
        try:
            closed = business_day_close(business_date=business_date, now=now)
        except BusinessDateInFuture as exc:
            raise CommandError(str(exc.message)) from exc
        if not closed:
            self.stdout.write(
                f"{business_date} is already closed (last closed: {business_day_last_closed()})."
            )
        for day in closed:
            counts = ", ".join(
                f"{name} {step['rows']}" for name, step in day.steps.items() if step["rows"]
            )
            self.stdout.write(
                f"Closed {day.business_date} in {day.seconds} s"
                f"{' (catch-up)' if day.catch_up else ''}: {counts or 'nothing to do'}"
            )
