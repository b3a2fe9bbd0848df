"""A year of readings imported into partitioned against plain tables (PostgreSQL).

N customers with a meter each; a year of monthly readings (12 per meter) goes through metering's
bulk import (check_rows, then import_rows: VEE and COPY), first into the readings table as the
migrations leave it (partitioned by month, the year's partitions made beforehand), then into the
plain table of the previous schema (metering migrated back to 0008), each twice, the table
emptied in between; prints readings/s of each and the ratio partitioned / plain (best of two).
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


def _rounds(label: str, table, rounds: int) -> float:
    from django.db import connection

    best = 0.0
    for n in range(rounds):
        imported, seconds = _import(table)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT tableoid) FROM metering_reading")
            (tables,) = cursor.fetchone()
        rate = imported / seconds
        best = max(best, rate)
        print(f"{label}, round {n + 1}: {imported} readings in {seconds:.1f} s, {rate:,.0f} readings/s "
              f"(rows in {tables} table(s))")  # fmt: skip
    return best


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
    from django.core.management import call_command

    from gasworks.lib import partitions

    table = _table(meters, args.months)
    first = partitions.month_start(meters[0].installed_on)
    partitions.ensure_months("metering_reading", "taken_at", ahead=args.months + 2, today=first)
    print(f"input: {args.customers} meters x {args.months} monthly readings = {len(table) - 1} rows")
    partitioned = _rounds("partitioned", table, args.rounds)
    call_command("migrate", *PLAIN, verbosity=0)
    plain = _rounds("plain", table, args.rounds)
    call_command("migrate", verbosity=0)
    print(f"a year of readings: partitioned {partitioned:,.0f} readings/s, plain {plain:,.0f} readings/s; "
          f"partitioned / plain = {partitioned / plain:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
