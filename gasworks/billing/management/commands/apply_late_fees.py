from django.core.management.base import BaseCommand

from gasworks.billing.arrears import apply_late_fees, refresh


class Command(BaseCommand):
    help = (
        "The daily arrears job: charge today's late fee on overdue bills (idempotent per bill per "
        "day), then rebuild the arrears snapshot the arrears page and report read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--no-refresh", action="store_true", help="only charge the late fees")

    def handle(self, *args, date=None, no_refresh=False, **options):
        day = None
        if date:
            from datetime import date as _date

            day = _date.fromisoformat(date)
        posted = apply_late_fees(day)
        self.stdout.write(f"{posted} late fees posted")
        if not no_refresh:
            totals = refresh()
            self.stdout.write(
                f"arrears snapshot: {totals['debtors']} accounts in debt, {totals['accounts']} overdue"
            )
