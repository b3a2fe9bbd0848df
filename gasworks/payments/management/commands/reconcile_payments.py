from django.core.management.base import BaseCommand

from gasworks.payments import services


class Command(BaseCommand):
    help = (
        "Ask the gateways about online orders stuck in pending (settle what they know, expire the rest) "
        "and about refunds still processing (book their outcome; send again one the gateway never took)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=0, help="only orders older than this many minutes"
        )
        parser.add_argument(
            "--refunds-older-than",
            type=int,
            default=None,
            help="only refunds sent this many minutes ago or earlier "
            "(default: the refund_reconcile_after_minutes parameter)",
        )

    def handle(self, *args, **options):
        counts = services.reconcile(options["older_than"], stdout=self.stdout)
        counts.update(services.reconcile_refunds(options["refunds_older_than"], stdout=self.stdout))
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
