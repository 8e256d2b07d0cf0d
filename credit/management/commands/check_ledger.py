"""`manage.py check_ledger`: prove invariants 1–7 and 9 over every account; exit 1 on any violation."""

from django.core.management.base import BaseCommand, CommandError

from credit.ledger_check import ledger_check


class Command(BaseCommand):
    help = (
        "Check the credit invariants 1–7 and 9 (principal, status, available credit, allocations, "
        "plans, audit trail, journal, verification purchase maximum) over every account; exits non-zero on any violation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias to check.")

    def handle(self, *args, database: str = "default", **options):
        report = ledger_check(using=database)
        self.stdout.write(report.format())
        if not report.ok:
            raise CommandError(f"{len(report.violations)} ledger violation(s)", returncode=1)
