from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from gasworks.accounts.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the demo login of each role."

    def handle(self, *args, **options):
        existing = set(
            get_user_model()
            .objects.filter(username__in=[u for u, _r, _n in DEMO_USERS])
            .values_list("username", flat=True)
        )
        self.stdout.write("\nGasworks demo: http://127.0.0.1:8000/  (API docs at /api/docs/)")
        self.stdout.write(f"Every demo login has the password: {DEMO_PASSWORD}")
        for username, role, _name in DEMO_USERS:
            if username in existing:
                self.stdout.write(f"  {role:<13} {username}")
        self.stdout.write("")
