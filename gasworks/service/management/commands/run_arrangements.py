from datetime import date

from django.core.management.base import BaseCommand, CommandError

from gasworks.service.arrangements import daily


class Command(BaseCommand):
    help = (
        "The daily run of payment arrangements: remind instalments falling due and end the "
        "arrangements not kept after the grace period (idempotent; run before apply_late_fees)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        text = options.get("date")
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        done = daily.run(day)
        self.stdout.write(f"{done['reminders']} instalment reminders, {done['ended']} arrangements ended")
