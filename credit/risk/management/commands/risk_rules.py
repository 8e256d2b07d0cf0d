"""`manage.py risk_rules`: evaluate the risk-event rules now (they also run every 10 minutes)."""

from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = "Evaluate the risk-event rules (shared IP, phone changes) and raise flags."

    def handle(self, *args, **options):
        from credit.risk.rules import rules_run

        for flag in rules_run(now=timezone.now()):
            self.stdout.write(f"flag {flag.pk}: {flag}  ({flag.accounts.count()} account(s))")
