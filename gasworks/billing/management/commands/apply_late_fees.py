from django.core.management.base import BaseCommand

from gasworks.billing.arrears import apply_late_fees


class Command(BaseCommand):
    help = "Charge today's late fee on overdue bills (idempotent per bill per day)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, **options):
        day = None
        if date:
            from datetime import date as _date

            day = _date.fromisoformat(date)
        posted = apply_late_fees(day)
        self.stdout.write(f"{posted} late fees posted")
