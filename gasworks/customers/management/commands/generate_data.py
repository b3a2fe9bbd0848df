"""A large, realistic data set for benchmarks: N customers with premises, written in chunks by
COPY on PostgreSQL (bulk_create on SQLite), with a progress bar. The other apps add theirs
through EXTRA_GENERATORS (in app order: meters and readings, bills, payments, inspections);
``--months 12`` asks them for a year of history (monthly readings, bills, payments)."""

import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from gasworks.customers import fakes, store
from gasworks.customers.services import reserve_account_numbers
from gasworks.lib import partitions
from gasworks.lib.db import vacuum_analyze

CHUNK = 50_000

# Other apps add their benchmark data here: callables (customer_id_range, rng, stdout, months),
# months being how many whole months of history to write (0: the app's minimal data).
EXTRA_GENERATORS: list = []


class Command(BaseCommand):
    help = "Generate N customers with premises for benchmarks (fast bulk writes)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--months", type=int, default=0, help="months of history: readings, bills, payments (default 0)"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, customers: int, seed: int, no_progress: bool, months: int = 0, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1")
        if not 0 <= months <= 120:
            raise CommandError("--months must be between 0 and 120")
        rng = random.Random(seed)
        started = time.perf_counter()
        if months:
            # The history's months get their partitions first, as a station that ran for that
            # long has them: rows go straight to their month (a billing chunk's read of a period
            # prunes to it), instead of piling up in DEFAULT to be moved later.
            first = partitions.add_months(timezone.localdate().replace(day=1), -months)
            partitions.maintain(ahead=months + 1, detach_older_than=0, today=first)
        numbers = reserve_account_numbers(customers)
        first_customer = first_premises = 0
        with tqdm(total=customers, unit="customer", disable=no_progress) as bar:
            for offset in range(0, customers, CHUNK):
                size = min(CHUNK, customers - offset)
                with transaction.atomic():
                    p0, c0 = self._write_chunk(rng, numbers[offset : offset + size])
                first_premises = first_premises or p0
                first_customer = first_customer or c0
                bar.update(size)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"generated {customers} customers in {elapsed:.1f} s: {customers / elapsed:,.0f} customers/s"
        )
        for generator in EXTRA_GENERATORS:
            generator(range(first_customer, first_customer + customers), rng, self.stdout, months=months)
        vacuum_analyze()  # autovacuum would, in time; the benchmarks measure the steady state
        if EXTRA_GENERATORS:
            self.stdout.write(f"generate_data: everything in {time.perf_counter() - started:.1f} s")

    def _rows(self, rng, numbers, premises_start, customer_start, today):
        premises, people = [], []
        for index, number in enumerate(numbers):
            category = fakes.category(rng)
            address, district = fakes.address(rng)
            name = fakes.person_name(rng) if category == "residential" else fakes.business_name(rng, category)
            gas_use = (
                "process" if category != "residential" else ("heating" if rng.random() < 0.2 else "cooking")
            )
            premises.append((premises_start + index, address, district))
            people.append(
                (
                    customer_start + index,
                    number,
                    name,
                    category,
                    gas_use,
                    fakes.phone(rng),
                    premises_start + index,
                    rng.randint(1, 6) if category == "residential" else 1,
                    today,
                )
            )
        return premises, people

    def _write_chunk(self, rng, numbers):
        now = timezone.now()
        premises_start, customer_start = store.next_ids()
        premises, people = self._rows(rng, numbers, premises_start, customer_start, timezone.localdate(now))
        store.write_generated(premises, people, now)
        return premises_start, customer_start
