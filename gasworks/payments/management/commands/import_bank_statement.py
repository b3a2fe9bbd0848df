import time

from django.core.management.base import BaseCommand, CommandError

from gasworks.errors import DomainError
from gasworks.payments.bankstatement import import_file


class Command(BaseCommand):
    help = "Post the transfers of a bank statement CSV (account_no,amount,bank_txn_id); idempotent by bank_txn_id."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            result = import_file(options["file"])
        except (DomainError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        seconds = time.perf_counter() - started
        for error in result.errors:
            self.stderr.write(error)
        rate = result.created / seconds if seconds else 0
        self.stdout.write(
            f"created={result.created} duplicates={result.duplicates} errors={len(result.errors)} "
            f"seconds={seconds:.2f} payments_per_second={rate:.0f}"
        )
