"""Create the inspection tasks that come due (last inspection + interval per category), and
announce the hazard deadlines that are near (DeadlineNear). Run daily from cron without Redis."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from gasworks.safety.services.hazards import warn_deadlines_near
from gasworks.safety.services.inspections import plan_due


class Command(BaseCommand):
    help = "Plan due home inspections and assign them to inspectors by district (safe to rerun)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Plan as of this day (YYYY-MM-DD); default today.")
        parser.add_argument("--lead-days", type=int, help="Override the lead-time parameter.")

    def handle(self, *args, date=None, lead_days=None, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from exc
        result = plan_due(today, lead_days=lead_days)
        self.stdout.write(
            self.style.SUCCESS(
                f"Planned {result.created} inspection tasks ({result.assigned} assigned by district, "
                f"{result.skipped} already planned elsewhere)."
            )
        )
        near = warn_deadlines_near(today)
        self.stdout.write(f"{near} hazard deadlines near announced.")
