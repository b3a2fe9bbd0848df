"""Background export of a long list on PostgreSQL: the customer list (every account, the
customer list page's Excel button) written to .xlsx by the background export's own path
(`reports.background.run_export`: a server-side cursor into XlsxWriter's constant-memory mode).
Prints rows/s and the process's RSS at 10 %, 50 % and 100 % of the rows (memory must stay flat)
and its peak. With --s3 the file goes to an S3 object store (moto's server on a local port, in
this process: its CPU counts here too) instead of var/media/, and the time of that upload is shown.

.venv/bin/python benchmarks/bench_exports.py [--customers 1000000] [--format xlsx|csv] [--s3]
"""

import argparse
import resource
import time

from _setup import setup


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--format", default="xlsx", choices=["xlsx", "csv"])
    parser.add_argument("--s3", action="store_true", help="store the file in a local S3 (moto)")
    args = parser.parse_args()
    if args.s3:
        _local_s3()
    setup("exports")
    _timed_save()

    from django.core.management import call_command
    from django.db import connection

    from gasworks.customers.management.commands import generate_data
    from gasworks.customers.models import Customer

    have = Customer.objects.count()
    if have < args.customers:
        generate_data.EXTRA_GENERATORS.clear()  # the list needs customers and premises only
        call_command("generate_data", customers=args.customers - have, no_progress=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    measure(args.format)


def measure(fmt: str = "xlsx", out=print) -> dict:
    """Export the customer list (every customer of the database in use) by the background
    export's path; print rows/s and RSS as it goes; return the figures."""
    from django.core.files.storage import default_storage

    from gasworks.reports import background
    from gasworks.reports.framework import REPORTS, parse_params
    from gasworks.reports.models import Export
    from tests.factories import make_user

    report = REPORTS["customers"]
    params = parse_params(report, {})
    total = report.count(params)
    user = make_user("manager", username=f"bench-manager-{time.time_ns()}")
    export = Export.objects.create(user=user, report="customers", format=fmt, rows_total=total)

    marks = {max(1, total // 10): "10 %", max(1, total // 2): "50 %"}
    seen: list[tuple[str, int, float]] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    out(f"customer list: {total:,} rows to {fmt}; RSS before {rss_mb():.0f} MB")

    def probe(done: int) -> None:
        for at, label in marks.items():
            if done >= at and label not in {s[0] for s in seen}:
                seen.append((label, done, rss_mb()))
                out(
                    f"  {label:>5}: {done:>9,} rows, RSS {rss_mb():.0f} MB, {done / (time.perf_counter() - started):,.0f} rows/s"
                )

    done = background.run_export(export.pk, on_progress=probe)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = background.stored_name(done)
    size = default_storage.size(name) / 2**20
    out(f"  100 %: {done.rows_done:>9,} rows, RSS {rss_mb():.0f} MB")
    out(
        f"export {fmt}: {done.rows_done:,} rows in {elapsed:.1f} s = {done.rows_done / elapsed:,.0f} rows/s; "
        f"peak RSS {peak:.0f} MB; file {size:.0f} MB (goal: >= 50,000 rows/s, flat memory)"
    )
    # On a shared machine the wall clock waits for other work; the CPU this process spent is
    # what the export costs (the database's side is one indexed scan).
    out(f"  this process's CPU: {cpu:.1f} s = {done.rows_done / cpu:,.0f} rows per CPU-second")
    out(f"  stored by {type(default_storage._wrapped).__name__} in {STORED['seconds']:.2f} s of the whole")
    default_storage.delete(name)
    export.delete()
    return {"rows": done.rows_done, "rows_per_s": done.rows_done / elapsed, "peak_rss_mb": peak}


STORED = {"seconds": 0.0}


def _local_s3() -> None:
    """moto's S3 server on a free port, a bucket in it, and the OBJECT_STORAGE_* settings for it."""
    import logging
    import os

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = "http://{}:{}".format(*server.get_host_and_port())
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **keys).create_bucket(Bucket="bench")
    os.environ.update(
        OBJECT_STORAGE_BUCKET="bench",
        OBJECT_STORAGE_ENDPOINT_URL=endpoint,
        OBJECT_STORAGE_REGION="us-east-1",
        OBJECT_STORAGE_ACCESS_KEY_ID="bench",
        OBJECT_STORAGE_SECRET_ACCESS_KEY="bench",
        OBJECT_STORAGE_ADDRESSING_STYLE="path",
    )


def _timed_save() -> None:
    """Count the time the default storage takes to store the finished file."""
    from django.core.files.storage import default_storage

    original = default_storage.save

    def save(name, content, max_length=None):
        started = time.perf_counter()
        try:
            return original(name, content, max_length=max_length)
        finally:
            STORED["seconds"] += time.perf_counter() - started

    default_storage.save = save  # set on the storage itself (LazyObject forwards it)


if __name__ == "__main__":
    main()
