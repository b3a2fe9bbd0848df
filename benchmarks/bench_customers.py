"""Customer benchmarks on PostgreSQL: generate_data rate, then search p50/p95 over the result.

.venv/bin/python benchmarks/bench_customers.py [--customers 1000000] [--searches 200]
"""

import argparse
import random
import time

from _setup import percentile, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    setup("customers", fresh=True)

    from django.core.management import call_command
    from django.db import connection

    from gasworks.customers import services
    from gasworks.customers.models import Customer

    started = time.perf_counter()
    call_command("generate_data", customers=args.customers, no_progress=True)
    elapsed = time.perf_counter() - started
    print(
        f"generate_data: {args.customers} customers in {elapsed:.1f} s = {args.customers / elapsed:,.0f} customers/s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    rng = random.Random(7)
    sample = list(Customer.objects.order_by("?").values("account_no", "phone", "name")[: args.searches])
    kinds = {
        "account number": lambda row: row["account_no"],
        "phone prefix (7 digits)": lambda row: row["phone"][:7],
        "name prefix (2 chars)": lambda row: row["name"][:2],
    }
    for label, make_query in kinds.items():
        timings = []
        for row in sample:
            query = make_query(row)
            t0 = time.perf_counter()
            # What the search page does: one page of 25 rows plus the count for the pager.
            queryset = services.search(
                Customer.objects.select_related("premises").order_by("account_no"), query
            )
            list(queryset[:25])
            queryset.count()
            timings.append((time.perf_counter() - t0) * 1000)
        rng.shuffle(timings)
        print(
            f"search by {label}: p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms "
            f"over {len(timings)} searches, {args.customers:,} customers"
        )


if __name__ == "__main__":
    main()
