"""Create the inspection tasks that come due (last inspection + interval per category), and
announce the hazard deadlines that are near or passed (DeadlineNear, DeadlinePassed) and tomorrow's
appointments (InspectionTomorrow). Run daily from cron without Redis, in the day (the reminders
are SMS, which wait out the quiet hours); a rerun the same day sends nothing twice."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from gasworks.lib.dates import start_of_day
from gasworks.safety.services.hazards import warn_deadlines_near, warn_deadlines_passed
from gasworks.safety.services.inspections import plan_due, remind_appointments


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
        passed = warn_deadlines_passed(today)
        self.stdout.write(f"{passed} hazard deadlines passed announced.")
        reminded = remind_appointments(start_of_day(today) + datetime.timedelta(hours=12) if today else None)
        self.stdout.write(f"{reminded} appointments tomorrow reminded.")
