"""Safety benchmark on PostgreSQL: generate N customers with an inspection history, then time
plan_inspections (the due-task planner) over them, and a rerun that finds nothing new to plan.

.venv/bin/python benchmarks/bench_safety.py [--customers 100000]
Database: BENCH_DATABASE_URL (or BENCH_DATABASE_URL_SAFETY), default
postgres://postgres@127.0.0.1:5432/gasworks_bench_safety (dropped and recreated each run).
"""

import argparse
import io
import os
import time

from _setup import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("customers_pos", nargs="?", type=int, help="same as --customers")
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    customers = args.customers_pos or args.customers
    if os.environ.get("BENCH_DATABASE_URL") and not os.environ.get("BENCH_DATABASE_URL_SAFETY"):
        os.environ["BENCH_DATABASE_URL_SAFETY"] = os.environ["BENCH_DATABASE_URL"]
    setup("safety", fresh=True)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from gasworks.accounts.roles import Role
    from gasworks.customers import fakes
    from gasworks.customers.management.commands import generate_data
    from gasworks.safety import generate
    from gasworks.safety.models import InspectionTask, InspectorArea, TaskStatus

    # Only the safety history: other apps' generators would time their own data here.
    generate_data.EXTRA_GENERATORS[:] = [generate.generate]
    out = io.StringIO()
    started = time.perf_counter()
    call_command("generate_data", customers=customers, no_progress=True, stdout=out)
    elapsed = time.perf_counter() - started
    for line in out.getvalue().splitlines():
        print(line)
    history = InspectionTask.objects.count()
    print(f"data: {customers:,} customers and {history:,} past inspections in {elapsed:.1f} s")

    # One inspector per district but the last, so the planner both assigns and leaves unassigned.
    users = get_user_model()
    for n, district in enumerate(fakes.DISTRICTS[:-1], start=1):
        inspector = users.objects.create_user(f"bench_inspector{n}", password="x", role=Role.INSPECTOR)
        InspectorArea.objects.create(district=district, inspector=inspector)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    started = time.perf_counter()
    call_command("plan_inspections", stdout=out)
    elapsed = time.perf_counter() - started
    planned = InspectionTask.objects.filter(status__in=[TaskStatus.PLANNED, TaskStatus.ASSIGNED]).count()
    assigned = InspectionTask.objects.filter(status=TaskStatus.ASSIGNED).count()
    print(
        f"plan_inspections: {planned:,} tasks ({assigned:,} assigned by district) over {customers:,} "
        f"customers in {elapsed:.2f} s = {planned / elapsed:,.0f} tasks/s, {customers / elapsed:,.0f} customers/s"
    )

    started = time.perf_counter()
    call_command("plan_inspections", stdout=out)
    elapsed = time.perf_counter() - started
    again = InspectionTask.objects.filter(status__in=[TaskStatus.PLANNED, TaskStatus.ASSIGNED]).count()
    print(
        f"plan_inspections rerun: {again - planned} new tasks, {elapsed:.2f} s ({customers / elapsed:,.0f} customers/s)"
    )


if __name__ == "__main__":
    main()
