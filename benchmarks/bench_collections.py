"""Collections ladder benchmark on PostgreSQL: the daily run (催缴) over N accounts, a share of
them overdue.

N customers, each with one account, one issued bill and its charge
in the ledger, generated inside PostgreSQL: the overdue share unpaid and due 50 days ago, a
fifth in debt but not yet due, the rest paid. Then billing's daily job rebuilds its arrears
snapshot (timed apart), and, timed: the first run of the day (every overdue account takes its
reminder and its notice goes into the outbox), the same day again (nothing new), and a run 15
days ahead (the final notices; arrears read live, not from the snapshot). Prints each time, the ratio of
the first run to the second, and peak memory. Never asserts on time.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gw_collections \\
        .venv/bin/python benchmarks/bench_collections.py --accounts 1000000 --overdue 0.1
"""

import argparse
import os
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_collections")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.pop("REDIS_URL", None)  # in-process: one machine, measured as such

from benchmarks.bench_billing import ensure_database  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def customers(n: int) -> None:
    """N premises and customers, generated inside PostgreSQL (no rows travel from Python); every
    table that hangs off them emptied first."""
    from django.db import connection, transaction
    from django.utils import timezone

    statements = [
        """INSERT INTO customers_premises (id, address, district, created_at)
        SELECT i, '北京市朝阳区基准路' || i || '号', '朝阳区', %(now)s FROM generate_series(1, %(n)s) AS i""",
        """INSERT INTO customers_customer (id, account_no, name, category, gas_use, phone, premises_id,
            household_size, status, id_number, opened_on, created_at, updated_at)
        SELECT i, 'B' || lpad(i::text, 9, '0'), '用户' || i,
            CASE WHEN i %% 10 = 0 THEN 'commercial' ELSE 'residential' END, 'cooking',
            '139' || lpad(i::text, 8, '0'), i, 1 + i %% 6, 'active', '', DATE '2024-01-01', %(now)s, %(now)s
        FROM generate_series(1, %(n)s) AS i""",
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "TRUNCATE notifications_message, customers_customer, customers_premises RESTART IDENTITY CASCADE"
        )
        cur.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            cur.execute(sql, {"n": n, "now": timezone.now()})
        for table in ("customers_premises", "customers_customer"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def fill(n: int, overdue: float, today) -> None:
    """Accounts, bills and ledger entries of N generated customers, set-based: customer i is
    overdue when i mod 1000 < overdue × 1000 (unpaid, due 50 days ago), in debt but not yet due
    for the next fifth, paid otherwise."""
    from django.db import connection, transaction
    from django.utils import timezone

    cut = int(overdue * 1000)
    now = timezone.now()
    params = {
        "n": n,
        "cut": cut,
        "soon": cut + 200,
        "now": now,
        "late": today - timedelta(days=50),
        "due": today + timedelta(days=5),
        "issued": today - timedelta(days=65),
        "paid": now - timedelta(days=40),
    }
    total = "(120 + (i %% 400))::numeric(12, 2)"
    owes = "(i %% 1000 < %(soon)s)"
    statements = [
        f"""INSERT INTO billing_account (id, customer_id, balance, prepaid, credit_limit, low_balance_alert, updated_at)
        SELECT i, i, CASE WHEN {owes} THEN -{total} ELSE 0 END, false, 0, 20, %(now)s
        FROM generate_series(1, %(n)s) AS i""",
        f"""INSERT INTO billing_bill (id, customer_id, period, period_start, period_end, volume, total,
            minimum_top_up, meter_rent, previous_balance, status, issued_on, due_on, created_at)
        SELECT i, i, to_char(%(issued)s::date, 'YYYY-MM'), %(issued)s::date, %(issued)s::date + 30, 50, {total},
            0, 0, 0, 'issued', %(issued)s::date,
            CASE WHEN i %% 1000 >= %(cut)s AND i %% 1000 < %(soon)s THEN %(due)s::date ELSE %(late)s::date END,
            %(now)s
        FROM generate_series(1, %(n)s) AS i""",
        f"""INSERT INTO billing_ledgerentry (account_id, kind, amount, balance_after, reference, idempotency_key, created_at)
        SELECT i, 'charge', -{total}, -{total}, 'bill', 'bill:' || i, %(now)s - interval '60 days'
        FROM generate_series(1, %(n)s) AS i""",
        f"""INSERT INTO billing_ledgerentry (account_id, kind, amount, balance_after, reference, idempotency_key, created_at)
        SELECT i, 'payment', {total}, 0, 'paid', 'bench-pay:' || i, %(paid)s
        FROM generate_series(1, %(n)s) AS i WHERE NOT {owes}""",
    ]
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            cur.execute(sql, params)
        for table in ("billing_account", "billing_bill"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


OUTBOX = {"seconds": 0.0}


def _timed_notices() -> None:
    """Time the notices' outbox writer apart (it runs inside the run's chunks)."""
    from gasworks.lib import events
    from gasworks.notifications import handlers
    from gasworks.service.collections.events import StepsTaken

    def timed(event):
        started = time.perf_counter()
        handlers.collection_steps(event)
        OUTBOX["seconds"] += time.perf_counter() - started

    events.unsubscribe(StepsTaken, handlers.collection_steps)
    events.subscribe(StepsTaken, timed, in_transaction=True)


def timed_run(as_of) -> tuple[dict, float, float]:
    from gasworks.service.collections import services

    OUTBOX["seconds"] = 0.0
    started = time.perf_counter()
    counts = services.run(as_of)
    return counts, time.perf_counter() - started, OUTBOX["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=float, default=0.1, help="share of the accounts overdue")
    parser.add_argument("--reuse", action="store_true", help="keep the data (and steps) of the last run")
    args = parser.parse_args()
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from gasworks.billing import arrears
    from gasworks.notifications.models import Message

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    if not args.reuse:
        started = time.perf_counter()
        customers(args.accounts)
        fill(args.accounts, args.overdue, today)
        print(
            f"input: {args.accounts:,} accounts, {args.overdue:.0%} overdue 50 days;"
            f" set up in {time.perf_counter() - started:.0f} s"
        )
    with connection.cursor() as cur:
        cur.execute("TRUNCATE service_collectionstep, service_collectionrun, notifications_message CASCADE")

    started = time.perf_counter()
    arrears.refresh(today)  # billing's daily job (00:20), before the ladder's (08:30)
    print(
        f"arrears snapshot rebuilt (billing's daily job, not the ladder's): {time.perf_counter() - started:.1f} s"
    )
    _timed_notices()
    first, first_s, outbox_s = timed_run(today)
    messages = Message.objects.count()
    print(
        f"first run of the day: {first} in {first_s:.1f} s, of which {outbox_s:.1f} s writing"
        f" {messages:,} notices into the outbox"
    )
    second, second_s, _outbox = timed_run(today)
    print(f"second run the same day: {second} in {second_s:.2f} s")
    print(f"  ratio first / second: {first_s / second_s:,.0f}x")
    later = today + timedelta(days=15)
    third, third_s, outbox_s = timed_run(later)
    print(
        f"run 15 days ahead (a schedule tried: arrears read live): {third} in {third_s:.1f} s,"
        f" of which {outbox_s:.1f} s in the outbox"
    )
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS {rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
