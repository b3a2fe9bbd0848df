"""A year of readings imported into partitioned against plain tables (PostgreSQL).

N customers with a meter each; a year of monthly readings (12 per meter) goes through metering's
bulk import (check_rows, then import_rows: VEE and COPY), first into the readings table as the
migrations leave it (partitioned by month, the year's partitions made beforehand), then into the
plain table of the previous schema (metering migrated back to 0008), in turn, the table
emptied in between; prints readings/s of each and the ratio partitioned / plain (best of two).

Then the ledger: the same number of entries (a year of monthly charges, each with its
idempotency key) COPYed into the partitioned entries with the key trigger (billing_ledgerkey),
the same with the trigger off (what the key table costs), and the plain table of the previous
schema (billing migrated back to 0013); each in a transaction rolled back, best of the rounds.
Never asserts on time. The database ends migrated forward again.

    .venv/bin/python benchmarks/bench_partitions.py --customers 20000 [--months 12] [--rounds 2]
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_partitions")
from benchmarks.bench_metering import ensure_db, setup  # noqa: E402 - after the database is chosen

PLAIN = ("metering", "0008_reading_refs_unconstrained")
PLAIN_LEDGER = ("billing", "0013_entry_refs_unconstrained")


def _table(meters, months: int) -> list[list[str]]:
    start_day = meters[0].installed_on + dt.timedelta(days=2)
    table = [["serial_no", "value", "taken_at", "reason"]]
    for i, meter in enumerate(meters):
        for month in range(months):
            day = start_day + dt.timedelta(days=30 * month)
            table.append([meter.serial_no, f"{(month + 1) * 20 + i % 7}", f"{day} 09:00", "periodic"])
    return table


def _import(table) -> tuple[int, float]:
    from django.db import connection

    from gasworks.metering import bulk

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE metering_reading, metering_tamperalert")
    rows, _errors = bulk.check_rows(table)
    started = time.perf_counter()
    result = bulk.import_rows(rows)
    return result["imported"], time.perf_counter() - started


def _round(label: str, table) -> float:
    from django.db import connection

    imported, seconds = _import(table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT tableoid) FROM metering_reading")
        (tables,) = cursor.fetchone()
    rate = imported / seconds
    print(
        f"{label}: {imported} readings in {seconds:.1f} s, {rate:,.0f} readings/s (rows in {tables} table(s))"
    )
    return rate


def bench_readings(table, months: int, first: dt.date, rounds: int) -> tuple[float, float]:
    """Best readings/s into the partitioned and the plain table, rounds taken in turn (the
    machine is shared: a load that comes and goes then weighs on both)."""
    from django.core.management import call_command
    from django.db import connection

    from gasworks.lib import partitions

    partitioned = plain = 0.0
    for n in range(rounds):
        with connection.cursor() as cursor:  # an empty table: the conversions below are quick
            cursor.execute("TRUNCATE metering_reading, metering_tamperalert")
        call_command("migrate", verbosity=0)
        partitions.ensure_months("metering_reading", "taken_at", ahead=months + 2, today=first)
        partitioned = max(partitioned, _round(f"partitioned, round {n + 1}", table))
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE metering_reading, metering_tamperalert")
        call_command("migrate", *PLAIN, verbosity=0)
        plain = max(plain, _round(f"plain, round {n + 1}", table))
    call_command("migrate", verbosity=0)
    return partitioned, plain


def _entry_lines(account_ids, months: int, first: dt.date) -> list[str]:
    from django.utils import timezone

    lines = []
    for month in range(months):
        at = timezone.make_aware(dt.datetime.combine(first + dt.timedelta(days=30 * month + 3), dt.time(2)))
        lines.extend(
            f"{a}\tcharge\t-1.00\t0.00\t\tbench:{month}:{a}\t{at.isoformat()}\n" for a in account_ids
        )
    return lines


def _copy_entries(label: str, lines: list[str], rounds: int, keys: bool = True) -> float:
    """Best entries/s of a COPY of ``lines`` into the ledger, rolled back each time."""
    from django.db import connection, transaction

    from gasworks.lib.db import copy_lines

    columns = ("account_id", "kind", "amount", "balance_after", "reference", "idempotency_key", "created_at")
    best = 0.0
    for _ in range(rounds):
        with transaction.atomic():
            if not keys:
                with connection.cursor() as cursor:
                    cursor.execute("ALTER TABLE billing_ledgerentry DISABLE TRIGGER ledger_keys")
            started = time.perf_counter()
            copy_lines(connection, "billing_ledgerentry", columns, lines)
            best = max(best, len(lines) / (time.perf_counter() - started))
            transaction.set_rollback(True)
    print(f"ledger entries COPY, {label}: {len(lines)} entries, {best:,.0f} entries/s")
    return best


def bench_ledger(customers: int, months: int, first: dt.date, rounds: int) -> None:
    from django.core.management import call_command

    from gasworks.billing.models import Account
    from gasworks.customers.models import Customer
    from gasworks.lib import partitions

    have = set(Account.objects.values_list("customer_id", flat=True))
    Account.objects.bulk_create(
        [Account(customer_id=c) for c in Customer.objects.values_list("pk", flat=True) if c not in have],
        batch_size=5000,
    )
    lines = _entry_lines(list(Account.objects.values_list("pk", flat=True)[:customers]), months, first)
    partitions.ensure_months("billing_ledgerentry", "created_at", ahead=months + 2, today=first)
    keyed = _copy_entries("partitioned, keys through billing_ledgerkey", lines, rounds)
    bare = _copy_entries("partitioned, key trigger off", lines, rounds, keys=False)
    call_command("migrate", *PLAIN_LEDGER, verbosity=0)
    plain = _copy_entries("plain table, unique index on the key", lines, rounds)
    call_command("migrate", verbosity=0)
    print(f"ledger entries: partitioned with keys / plain = {keyed / plain:.2f}; "
          f"partitioned with keys / without the key table = {keyed / bare:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ensure_db()
    meters = setup(args.customers)
    from gasworks.lib import partitions

    table = _table(meters, args.months)
    first = partitions.month_start(meters[0].installed_on)
    print(f"input: {args.customers} meters x {args.months} monthly readings = {len(table) - 1} rows")
    partitioned, plain = bench_readings(table, args.months, first, args.rounds)
    print(f"a year of readings: partitioned {partitioned:,.0f} readings/s, plain {plain:,.0f} readings/s; "
          f"partitioned / plain = {partitioned / plain:.2f}")  # fmt: skip
    bench_ledger(args.customers, args.months, first, args.rounds)


if __name__ == "__main__":
    main()
