import sys

from django.core.management.base import BaseCommand

from gasworks.billing.verify import verify_ledger


class Command(BaseCommand):
    help = "Check every account: cached balance = sum of entries, unbroken balance_after chain."

    def handle(self, *args, **options):
        checked, problems = verify_ledger()
        for p in problems:
            self.stderr.write(f"account {p.account_id} (customer {p.customer_id}): {p.problem}")
        self.stdout.write(f"{checked} accounts checked, {len(problems)} discrepancies")
        if problems:
            sys.exit(1)
