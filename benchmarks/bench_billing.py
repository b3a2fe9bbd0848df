"""Billing-run benchmark on PostgreSQL: N accounts with one reading each.

Prints bills/s, the run's time as a ratio to a raw COPY of the very rows it wrote (bills,
bill lines, ledger entries) into empty copies of those tables measured in the same process,
and peak memory. Never asserts on time.

    .venv/bin/python benchmarks/bench_billing.py                 # 200,000 accounts
    .venv/bin/python benchmarks/bench_billing.py --accounts 1000000
    .venv/bin/python benchmarks/bench_billing.py --accounts 100000 --plain   # unpartitioned history
"""

import argparse
import io
import os
import resource
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_billing")
os.environ["DATABASE_URL"] = DB_URL
os.environ.pop("REDIS_URL", None)  # in-process: one machine, measured as such


def ensure_database() -> None:
    import psycopg

    url = urlparse(DB_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


GENERATED = ("customers_premises", "customers_customer", "metering_meter", "metering_reading")


def generate(n: int, period_start: date) -> None:
    """N premises, customers, meters and one accepted reading each, generated inside
    PostgreSQL (INSERT ... SELECT over generate_series): no rows travel from Python."""
    from django.db import connection, transaction
    from django.utils import timezone

    tables = (
        # The outbox is named: it has no foreign key to the customers, so their CASCADE misses it.
        "notifications_message, billing_billline, billing_bill, billing_billreview, billing_ledgerentry, billing_adjustment, "
        "billing_prepaidcharge, billing_valvecommand, billing_account, billing_billingrun, "
        "metering_reading, metering_meter, customers_statuschange, customers_customer, customers_premises"
    )
    now = timezone.now()
    taken = timezone.make_aware(datetime(period_start.year, period_start.month, 15, 10))  # noqa: DTZ001
    statements = [
        """INSERT INTO customers_premises (id, address, district, created_at)
        SELECT i, '北京市朝阳区基准路' || i || '号', '朝阳区', %(now)s FROM generate_series(1, %(n)s) AS i""",
        """INSERT INTO customers_customer (id, account_no, name, category, gas_use, phone, premises_id,
            household_size, status, id_number, opened_on, created_at, updated_at)
        SELECT i, 'B' || lpad(i::text, 9, '0'), '用户' || i,
            CASE WHEN i %% 10 = 0 THEN 'commercial' ELSE 'residential' END,
            CASE WHEN i %% 10 = 0 THEN 'process' WHEN i %% 5 = 1 THEN 'heating' ELSE 'cooking' END,
            '139' || lpad(i::text, 8, '0'), i, 1 + i %% 6, 'active', '', DATE '2024-01-01', %(now)s, %(now)s
        FROM generate_series(1, %(n)s) AS i""",
        """INSERT INTO metering_meter (id, serial_no, kind, digits, premises_id, status, installed_on,
            initial_reading, max_flow_m3h, district)
        SELECT i, 'BM' || lpad(i::text, 9, '0'), 'diaphragm', 5, i, 'installed', DATE '2024-01-01', 0, 6,
            ''
        FROM generate_series(1, %(n)s) AS i""",
        """INSERT INTO metering_reading (id, meter_id, customer_id, value, taken_at, reason, status, flags,
            consumption, created_at, source, note)
        SELECT i, i, i, 1000 + (i %% 97) * 3, %(taken)s, 'periodic', 'accepted', '[]',
            5.125 + (i %% 97) * 3, %(now)s, 'manual', ''
        FROM generate_series(1, %(n)s) AS i""",
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        # The rows are consistent by construction: skip the per-row foreign-key triggers while
        # generating (SET LOCAL: only this transaction, so the run itself pays every check).
        cur.execute("SET LOCAL session_replication_role = replica")
        # Indexes that back no constraint are built once after the load (a trigram GIN index
        # grown row by row is most of the load time), in the same transaction.
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[])"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [list(GENERATED)],
        )
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute(f"DROP INDEX {name}")
        for sql in statements:
            cur.execute(sql, {"n": n, "now": now, "taken": taken})
        for _name, definition in indexes:
            cur.execute(definition)
        for table in GENERATED:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cur.execute("ANALYZE")


def raw_copy_baseline(tables=("billing_bill", "billing_billline", "billing_ledgerentry")) -> float:
    """Seconds to COPY the run's own bills, lines and ledger entries (or other `tables`) into
    empty copies of the same tables (same indexes and constraints), inside one transaction, as
    the floor."""
    from django.db import connection, transaction

    timed = 0.0
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor
        for table in tables:
            buffer = io.BytesIO()
            # COPY (SELECT ...): a partitioned table cannot be copied out directly.
            with raw.copy(f"COPY (SELECT * FROM {table}) TO STDOUT") as out:
                for chunk in out:
                    buffer.write(chunk)
            cur.execute(f"CREATE TEMP TABLE bench_{table} (LIKE {table} INCLUDING ALL) ON COMMIT DROP")
            started = time.perf_counter()
            with raw.copy(f"COPY bench_{table} FROM STDIN") as into:
                into.write(buffer.getvalue())
            timed += time.perf_counter() - started
        transaction.set_rollback(True)
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="accounts per chunk")
    parser.add_argument("--workers", type=int, default=2, help="processes billing chunks side by side")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="readings and ledger entries as plain tables (the schema before partitioning), to compare",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    args = parser.parse_args()

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    if args.plain:
        call_command("migrate", "metering", "0008_reading_refs_unconstrained", verbosity=0)
        call_command("migrate", "billing", "0013_entry_refs_unconstrained", verbosity=0)
    from gasworks.billing import runs
    from gasworks.billing.models import Bill, BillLine, LedgerEntry
    from gasworks.billing.verify import verify_ledger
    from gasworks.billing.web_hooks import seed_tariffs

    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    period = f"{last_month:%Y-%m}"
    if not args.plain:  # the months of the period and its run (they would land in DEFAULT)
        from gasworks.lib import partitions

        partitions.maintain(ahead=3, detach_older_than=0, today=last_month)
    started = time.perf_counter()
    generate(args.accounts, last_month)
    seed_tariffs()
    print(
        f"input: {args.accounts} accounts with one reading each, generated in {time.perf_counter() - started:.1f} s"
    )

    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    runs.CHUNK_SPAN = args.chunk
    started = time.perf_counter()
    run = runs.execute(runs.start_run(period), workers=args.workers)
    elapsed = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    bills, lines, entries = Bill.objects.count(), BillLine.objects.count(), LedgerEntry.objects.count()
    print(
        f"run {period}: status {run.status}, {run.bills_created} bills, {lines} lines, {entries} ledger entries"
    )
    print(
        f"billing run: {elapsed:.1f} s, {bills / elapsed:,.0f} bills/s (chunk {args.chunk} accounts, {args.workers} worker process(es))"
    )
    copy_s = raw_copy_baseline()
    print(f"raw COPY of the same rows: {copy_s:.1f} s; run / COPY = {elapsed / copy_s:.1f}x")
    print(
        f"peak memory (max RSS): this process {peak_rss_mb:,.0f} MB, largest worker {worker_rss_mb:,.0f} MB"
    )
    if args.tracemalloc:
        print(f"peak traced Python allocations: {tracemalloc.get_traced_memory()[1] / 1e6:,.0f} MB")
    started = time.perf_counter()
    checked, problems = verify_ledger()
    print(
        f"verify_ledger: {checked} accounts, {len(problems)} discrepancies, {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    again = runs.execute(runs.start_run(period), workers=args.workers)
    print(f"rerun of {period}: {again.bills_created} new bills in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
