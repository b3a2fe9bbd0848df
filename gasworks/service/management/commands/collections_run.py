import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from gasworks.errors import DomainError
from gasworks.service.collections import services


class Command(BaseCommand):
    help = (
        "The daily collections run (催缴): take the ladder's steps (reminder, final notice, "
        "disconnection order) of every overdue account as of a day; the same day twice takes nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"--as-of: {exc}") from exc
        try:
            counts = services.run(day)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            f"{counts['reminders']} reminders, {counts['final_notices']} final notices, "
            f"{counts['disconnection_orders']} disconnection orders"
        )
