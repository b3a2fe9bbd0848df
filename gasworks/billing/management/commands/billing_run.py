from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gasworks.billing import runs
from gasworks.errors import DomainError


class Command(BaseCommand):
    help = "Bill every active account with billable readings in a period (YYYY-MM); a rerun continues."

    def add_arguments(self, parser):
        parser.add_argument("period")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="processes billing chunks side by side (PostgreSQL; 2 pays on 2 cores)",
        )

    def handle(self, period, no_progress=False, workers=1, **options):
        try:
            run = runs.start_run(period)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        bar = None

        def on_chunk(lo, hi):
            bar.update(1)

        chunks = runs.plan(run)
        bar = tqdm(total=len(chunks), unit="chunk", disable=no_progress, desc=f"billing {run.period}")
        run.status = "running"
        try:
            run = runs.execute(run, on_chunk=on_chunk, chunks=chunks, workers=workers)
        except Exception as exc:
            raise CommandError(f"run #{run.pk} failed: {exc}; run the command again to continue") from exc
        finally:
            bar.close()
        self.stdout.write(
            f"run #{run.pk} {run.period}: {run.status}, {run.bills_created} bills, "
            f"{run.parked} parked for review, {run.accounts_total} accounts"
        )
        counts = (run.held_back or {}).get("counts", {})
        if any(counts.values()):
            held = ", ".join(f"{n} {reason}" for reason, n in counts.items() if n)
            self.stdout.write(f"held back: {held} (see the run page, /billing/runs/{run.pk}/)")
