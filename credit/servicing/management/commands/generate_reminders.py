from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import DomainError
from credit.servicing.services import reminders_generate


class Command(BaseCommand):
    help = "Write the due reminders for a business date (default: today). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, date=None, **options):
        now = timezone.now()
        business_date = date or timezone.localdate(now)
        try:
            written = reminders_generate(business_date=business_date, now=now)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{written} reminder rows written for {business_date.isoformat()}")
