"""Keep the monthly partitions of the history tables (PostgreSQL): create the coming months,
move rows that waited in DEFAULT to their month, detach old months of readings if asked, and
list the detached ones (kept as tables, never dropped). Celery beat runs the same daily
(gasworks.system.tasks); without Redis, run it from cron. Does nothing on SQLite."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gasworks.lib import partitions
from gasworks.system import parameters


class Command(BaseCommand):
    help = "Create the coming monthly partitions and detach old ones (PostgreSQL; safe to rerun)."

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=3, help="Months ahead to create (default 3).")
        parser.add_argument(
            "--detach-older-than",
            type=int,
            default=None,
            metavar="MONTHS",
            help="Detach readings' months older than this (default: the partitions_keep_months parameter; 0: never).",
        )

    def handle(self, *args, ahead, detach_older_than, **options):
        if ahead < 0 or (detach_older_than is not None and detach_older_than < 0):
            raise CommandError("--ahead and --detach-older-than take a number of months, 0 or more")
        if detach_older_than is None:
            detach_older_than = parameters.get("partitions_keep_months")
        done = partitions.maintain(
            ahead=ahead, detach_older_than=detach_older_than, today=timezone.localdate()
        )
        if not done:
            self.stdout.write("No partitioned tables (SQLite, or not migrated).")
        for upkeep in done:
            self.stdout.write(
                f"{upkeep.table}: created {', '.join(upkeep.created) or 'none'};"
                f" detached now {', '.join(upkeep.detached_now) or 'none'};"
                f" detached (kept as tables) {', '.join(upkeep.detached) or 'none'}."
            )
