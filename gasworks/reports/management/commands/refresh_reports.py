"""Rebuild the reports' rollups: what changed since the last refresh, or everything with --full.
Run nightly from cron when there is no Celery beat (REDIS_URL unset)."""

from django.core.management.base import BaseCommand

from gasworks.reports import rollups


class Command(BaseCommand):
    help = "Refresh the report rollups (only what changed since the last refresh, or --full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every key of every rollup")
        parser.add_argument("names", nargs="*", help="rollups to refresh (default: all)")

    def handle(self, *args, **options):
        names = options["names"] or None
        unknown = sorted(set(names or []) - set(rollups.ROLLUPS))
        if unknown:
            self.stderr.write(
                f"Unknown rollups: {', '.join(unknown)}; known: {', '.join(sorted(rollups.ROLLUPS))}"
            )
            raise SystemExit(2)
        done = rollups.refresh(names, full=options["full"])
        for name, keys in sorted(done.items()):
            self.stdout.write(f"{name}: {keys} keys rebuilt")
