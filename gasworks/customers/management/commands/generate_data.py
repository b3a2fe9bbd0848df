"""A large, realistic data set for benchmarks: N customers with premises, written in chunks by
COPY on PostgreSQL (bulk_create on SQLite), with a progress bar."""

import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from gasworks.customers import fakes
from gasworks.customers.models import Customer, Premises
from gasworks.customers.services import reserve_account_numbers

CHUNK = 50_000

# Other apps add their benchmark data here: callables (customer_id_range, rng, stdout).
EXTRA_GENERATORS: list = []


class Command(BaseCommand):
    help = "Generate N customers with premises for benchmarks (fast bulk writes)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, customers: int, seed: int, no_progress: bool, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1")
        rng = random.Random(seed)
        started = time.perf_counter()
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
        for generator in EXTRA_GENERATORS:
            generator(range(first_customer, first_customer + customers), rng, self.stdout)
        self.stdout.write(
            f"generated {customers} customers in {elapsed:.1f} s: {customers / elapsed:,.0f} customers/s"
        )

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
        today = timezone.localdate(now)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("LOCK TABLE customers_premises, customers_customer IN EXCLUSIVE MODE")
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_premises")
            premises_start = cursor.fetchone()[0] + 1
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer")
            customer_start = cursor.fetchone()[0] + 1
        premises, people = self._rows(rng, numbers, premises_start, customer_start, today)
        if connection.vendor == "postgresql":
            self._copy(
                "customers_premises",
                ["id", "address", "district", "created_at"],
                [(*p, now) for p in premises],
            )
            self._copy(
                "customers_customer",
                [
                    "id",
                    "account_no",
                    "name",
                    "category",
                    "gas_use",
                    "phone",
                    "premises_id",
                    "household_size",
                    "opened_on",
                    "status",
                    "id_number",
                    "created_at",
                    "updated_at",
                ],
                [(*c, "active", "", now, now) for c in people],
            )
            with connection.cursor() as cursor:
                for table in ("customers_premises", "customers_customer"):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
                    )
        else:
            Premises.objects.bulk_create(
                [Premises(id=i, address=a, district=d) for i, a, d in premises], batch_size=5000
            )
            Customer.objects.bulk_create(
                [
                    Customer(
                        id=i,
                        account_no=n,
                        name=name,
                        category=cat,
                        gas_use=use,
                        phone=ph,
                        premises_id=p,
                        household_size=h,
                        opened_on=o,
                    )
                    for i, n, name, cat, use, ph, p, h, o in people
                ],
                batch_size=5000,
            )
        return premises_start, customer_start

    @staticmethod
    def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
