"""Deliver the notification outbox: one round, or `--loop` as a service (where no Celery worker
runs). Each round also reminds customers of supply interruptions starting soon and tells them
when one has ended."""

import time

from django.core.management.base import BaseCommand

from gasworks.notifications import interruptions, sender


class Command(BaseCommand):
    help = "Send the queued notifications (and supply-interruption reminders and restorations)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep sending, every --interval seconds")
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, loop: bool, interval: float, batch: int, **options):
        while True:
            reminded = interruptions.remind_due()
            restored = interruptions.restored_due()
            counts = sender.send_due(limit=batch)
            if reminded or restored or any(counts.values()):
                self.stdout.write(f"reminded {reminded} interruptions; {restored} restored; {counts}")
            if not loop:
                return
            if counts["sent"] + counts["queued"] + counts["failed"] < batch:
                time.sleep(interval)
