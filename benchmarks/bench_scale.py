"""Scale-out benchmarks on PostgreSQL (issue 16), by part. Print figures; never assert on time.

    .venv/bin/python benchmarks/bench_scale.py        # both parts at a few hundred thousand accounts
    .venv/bin/python benchmarks/bench_scale.py --part size --accounts 1000000,5000000
    .venv/bin/python benchmarks/bench_scale.py --part celery --accounts 1000000
    .venv/bin/python benchmarks/bench_scale.py --part size --accounts 1000000,5000000 --server tuned

--part size: the billing run at each size (bench_billing's generated accounts, one reading
each; the local mode, --workers processes; the portal's bill notices on), with bills/s and the
ratio of the largest to the smallest (cost grows linearly when bills/s holds), and whether the
history tables are partitioned. The sales rollup's refresh after each run (a Celery task in
production) is timed apart.

--server tuned runs either part on a throwaway PostgreSQL with docs/deploy.md's settings for the
primary (benchmarks/_server.py), not the machine's defaults.

--part celery: the same run handed to real Celery workers on the machine's Redis (a worker with
1 and then 2 prefork processes, on a queue of its own), timed from the hand-over until the run is
done; bills/s of each and their ratio. Bill notices and the reports' refresh are off in the
workers (their own benchmarks measure them), so the figure is the run's.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server

_server.from_argv("bench_scale")  # --server tuned: before BENCH_DATABASE_URL is read
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_scale")
import bench_billing as billing_bench  # noqa: E402 (after the environment it reads at import)

ROOT = Path(__file__).resolve().parent.parent
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
QUEUE = "bench-scale"


def _period():
    from django.utils import timezone

    today = timezone.localdate()
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return start, f"{start:%Y-%m}"


def partitioned() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1"
        )
        names = [row[0] for row in cursor.fetchall()]
    return ", ".join(names) or "none"


def _bills() -> int:
    from gasworks.billing.models import Bill

    return Bill.objects.count()


def bench_size(args) -> None:
    from django.test.utils import override_settings

    from gasworks import subscriptions
    from gasworks.billing import runs
    from gasworks.billing.events import BillingRunFinished
    from gasworks.billing.web_hooks import seed_tariffs
    from gasworks.lib import events
    from gasworks.reports import tasks as report_tasks

    start, period = _period()
    print(f"partitioned tables: {partitioned()}")
    rates = {}
    for n in args.accounts:
        started = time.perf_counter()
        billing_bench.generate(n, start)
        seed_tariffs()
        generated = time.perf_counter() - started
        runs.CHUNK_SPAN = args.chunk
        # The sales rollup's refresh after a run is a Celery task in production; here it would
        # run inline inside the timed run, so it is timed apart (as bench_notifications does).
        events.unsubscribe(BillingRunFinished, subscriptions.refresh_sales_after_run)
        started = time.perf_counter()
        with override_settings(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER=True):  # the local mode
            run = runs.execute(runs.start_run(period), workers=args.workers)
        elapsed = time.perf_counter() - started
        events.subscribe(BillingRunFinished, subscriptions.refresh_sales_after_run)
        started = time.perf_counter()
        report_tasks.refresh_rollups(["sales"])
        refresh_s = time.perf_counter() - started
        rates[n] = _bills() / elapsed
        print(
            f"{n:>11,} accounts: generated in {generated:.0f} s; run {elapsed:.1f} s, {rates[n]:,.0f} bills/s"
            f" ({run.status}, {args.workers} worker process(es)); then the sales rollup's refresh"
            f" {refresh_s:.1f} s"
        )
    if len(rates) > 1:
        small, large = min(rates), max(rates)
        print(
            f"bills/s at {large:,} / at {small:,} = {rates[large] / rates[small]:.2f}"
            f" (1.00: the cost per bill does not grow with the size)"
        )


def _start_worker(processes: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": billing_bench.DB_URL,
        "REDIS_URL": REDIS,
        "CELERY_QUEUE": QUEUE,
        "DJANGO_SETTINGS_MODULE": "gasworks.settings",
    }
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parent / "celery_bench_worker.py"), str(processes)],
        cwd=ROOT,
        env=env,
    )


def bench_celery(args) -> None:
    import redis
    from django.conf import settings

    from gasworks.billing import runs
    from gasworks.billing.models import BillingRun, RunStatus
    from gasworks.billing.web_hooks import seed_tariffs

    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("the Celery part needs REDIS_URL (set from BENCH_REDIS_URL)")
    start, period = _period()
    n = args.accounts[0]
    rates = {}
    for processes in (1, 2):
        redis.Redis.from_url(REDIS).flushdb()
        billing_bench.generate(n, start)
        seed_tariffs()
        worker = _start_worker(processes)
        try:
            time.sleep(3)  # the worker connects and waits on the queue
            runs.CHUNK_SPAN = args.chunk
            run = runs.start_run(period)
            started = time.perf_counter()
            runs.execute(run)
            while BillingRun.objects.values_list("status", flat=True).get(pk=run.pk) == RunStatus.RUNNING:
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        rates[processes] = _bills() / elapsed
        print(
            f"Celery, {processes} worker process(es): {n:,} accounts in {elapsed:.1f} s, {rates[processes]:,.0f} bills/s"
        )
    print(f"2 processes / 1 = {rates[2] / rates[1]:.2f} (on {os.cpu_count()} cores)")


PARTS = {"size": bench_size, "celery": bench_celery}
DEFAULT_SIZES = {"size": [100_000, 500_000], "celery": [200_000]}  # `make bench`: minutes, not hours


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=[*sorted(PARTS), "all"], default="all")
    parser.add_argument("--accounts", default="", help="sizes, comma-separated (default per part)")
    parser.add_argument("--chunk", type=int, default=10_000, help="accounts per billing chunk")
    parser.add_argument("--workers", type=int, default=2, help="local processes (--part size)")
    _server.add_argument(parser)
    args = parser.parse_args()
    parts = sorted(PARTS) if args.part == "all" else [args.part]
    if "celery" in parts:
        os.environ["REDIS_URL"] = REDIS
        os.environ["CELERY_QUEUE"] = QUEUE
    billing_bench.ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    given = [int(a) for a in args.accounts.split(",") if a]
    for part in parts:
        args.accounts = given or DEFAULT_SIZES[part]
        PARTS[part](args)


if __name__ == "__main__":
    main()
