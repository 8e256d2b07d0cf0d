"""`manage.py rescore [--dry-run] [--date YYYY-MM-DD]`: the nightly rescoring, by hand.

Without --dry-run: finishes any interrupted live run first, evaluates the risk-event rules,
then plans and executes the run for the date (today, Asia/Shanghai, by default). A date
that already has an applied run, or one held for approval, is left alone.
With --dry-run: computes everything and prints the summary; applies nothing.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from credit.risk.errors import RiskError
from credit.risk.models import RescoringRun, RunStatus


class Command(BaseCommand):
    help = "Rescore every open account (features, scorecard, policy) and apply the decisions."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="compute and summarise only")
        parser.add_argument("--date", help="score as of this date (YYYY-MM-DD); default today")
        parser.add_argument("--chunk-size", type=int, help="accounts per chunk")
        parser.add_argument(
            "--throttle", type=float, default=0.0, help="seconds to pause between chunks"
        )
        parser.add_argument(
            "--resume-only", action="store_true", help="only finish interrupted runs"
        )
        parser.add_argument("--no-rules", action="store_true", help="skip the risk-event rules")

    def handle(self, *args, **options):
        from credit.risk.rules import rules_run
        from credit.risk.runs import run_execute, run_plan, runs_unfinished

        now = timezone.now()
        try:
            as_of = (
                date.fromisoformat(options["date"]) if options["date"] else timezone.localdate(now)
            )
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        try:
            if not options["dry_run"]:
                for unfinished in runs_unfinished().order_by("pk"):
                    self.stdout.write(f"resuming run {unfinished.pk} ({unfinished.status})")
                    self._report(run_execute(run=unfinished, now=now, throttle=options["throttle"]))
                if options["resume_only"]:
                    return
                if not options["no_rules"]:
                    flags = rules_run(now=now)
                    self.stdout.write(f"risk rules: {len(flags)} flag(s) raised or extended")
                if RescoringRun.objects.filter(
                    dry_run=False,
                    as_of=as_of,
                    status__in=[RunStatus.APPLIED, RunStatus.AWAITING_APPROVAL],
                ).exists():
                    self.stdout.write(f"{as_of} already has a run; nothing to do")
                    return
            run = run_plan(
                as_of=as_of,
                now=now,
                dry_run=options["dry_run"],
                chunk_size=options["chunk_size"],
            )
            self.stdout.write(f"run {run.pk} as of {as_of}{' (dry run)' if run.dry_run else ''}")
            self._report(run_execute(run=run, now=now, throttle=options["throttle"]))
        except RiskError as exc:
            raise CommandError(str(exc.message)) from exc

    def _report(self, run: RescoringRun) -> None:
        summary = run.summary or {}
        self.stdout.write(f"run {run.pk}: {run.status}")
        if summary:
            self.stdout.write(
                f"  scored {summary.get('scored')}  actions {summary.get('actions')}  "
                f"pending {summary.get('pending')}  mean score {summary.get('mean_score')}"
            )
            breaker = summary.get("breaker") or {}
            if breaker.get("tripped"):
                self.stdout.write("  circuit breaker: " + "; ".join(breaker["reasons"]))
            if "applied" in summary:
                self.stdout.write(f"  applied {summary['applied']}")
