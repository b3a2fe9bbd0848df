from django.core.management.base import BaseCommand

from gasworks.payments import services


class Command(BaseCommand):
    help = "Ask the gateways about online orders stuck in pending; settle what they know, expire the rest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=0, help="only orders older than this many minutes"
        )

    def handle(self, *args, **options):
        counts = services.reconcile(options["older_than"], stdout=self.stdout)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
