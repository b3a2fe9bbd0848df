"""Every registered report over a full year, on PostgreSQL with generate_data's history.

For each report in gasworks.reports.framework.REPORTS (whatever is registered when this runs):
p50/p95 of report.run(), of its page /reports/<name>/ and of its API /api/v1/reports/<name>/,
read from the rollups, and the ratio to the same report computed live from the base tables.
The live path is forced the way rollups.py defines it: with no RollupState a report reads every
key live. So each report is timed once with the states cleared (live), then rollups.refresh()
rebuilds every rollup (its time printed), and each report is timed again (rollups).

    .venv/bin/python benchmarks/bench_reports.py                        # data generated if empty
    .venv/bin/python benchmarks/bench_reports.py --customers 100000 --runs 7
    .venv/bin/python benchmarks/bench_reports.py --customers 1000000      # issue 13's size
    .venv/bin/python benchmarks/bench_reports.py --replica                # on a hot standby (issue 16)

Then the Excel export of the customer list (every customer: 1,000,000 rows at that size), rows/s
and peak RSS (--no-export skips it).

Database: BENCH_DATABASE_URL_HISTORY (default postgres://postgres@127.0.0.1:5432/gasworks_bench_history,
shared with bench_pages);
when it has no customers, generate_data --customers N --months 12 fills it first. Never asserts
on time; the goal (issue 13) is p95 <= 200 ms at 1,000,000 customers, flagged here."""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import percentile, setup

os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})
GOAL_MS = 200.0


def year_query(report, today) -> dict[str, str]:
    """The query string of a full year for the report: the last 12 whole months (month
    reports), the last 365 days (day reports), today (as-of reports)."""
    from gasworks.reports.framework import shift_period

    if report.period == "month":
        this = f"{today.year:04d}-{today.month:02d}"
        return {"from": shift_period(this, -12), "to": shift_period(this, -1)}
    if report.period == "day":
        return {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    return {"as_of": today.isoformat()}


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _client():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from gasworks.accounts.services import create_user

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    user = get_user_model().objects.filter(username="bench-reports-admin").first() or create_user(
        "bench-reports-admin", "bench-reports-not-for-login-9", "admin"
    )
    client = Client()
    client.force_login(user)
    return client


def measure_all(
    reports: dict, runs: int, today, *, run_too: bool = True
) -> dict[str, dict[str, list[float]]]:
    """{report name: {"run": ms..., "page": ms..., "api": ms...}} as things stand (live or rollup);
    without "run" when not ``run_too`` (report.run() outside a view never reads a replica)."""
    from urllib.parse import urlencode

    from gasworks.reports.framework import parse_params

    client = _client()
    out: dict[str, dict[str, list[float]]] = {}
    for name, report in sorted(reports.items()):
        query = year_query(report, today)
        params = parse_params(report, query, today)
        qs = urlencode(query)
        checks: dict[str, list[float]] = {}
        if run_too:
            checks["run"] = timed(lambda r=report, p=params: r.run(p), runs)
        for kind, url in (("page", f"/reports/{name}/?{qs}"), ("api", f"/api/v1/reports/{name}/?{qs}")):
            status = client.get(url).status_code  # also warms the view's imports
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            checks[kind] = timed(lambda u=url: client.get(u), runs)
        out[name] = checks
    return out


def run(runs: int = 5, out=print) -> list[dict]:
    """Measure every registered report live, refresh the rollups, measure again; print a table
    and return its rows."""
    from django.utils import timezone

    from gasworks.reports import rollups
    from gasworks.reports.framework import REPORTS
    from gasworks.reports.models import RollupState

    if not REPORTS:
        out("no reports registered (gasworks.reports.framework.REPORTS is empty): nothing to measure")
        return []
    today = timezone.localdate()
    RollupState.objects.all().delete()  # no state: every key is read live from the base tables
    live = measure_all(REPORTS, runs, today)
    started = time.perf_counter()
    rebuilt = rollups.refresh(full=True)
    out(
        f"rollups.refresh(full=True): {time.perf_counter() - started:.1f} s "
        f"({', '.join(f'{k}: {v} keys' for k, v in rebuilt.items()) or 'no rollups registered'})"
    )
    # The nightly jobs' other summary: the arrears snapshot (billing's daily job, after the late
    # fees), which today's arrears report and page read beside the accounts moved since.
    from gasworks.billing import arrears

    started = time.perf_counter()
    snapshot = arrears.refresh()
    out(
        f"arrears.refresh() (the daily snapshot): {time.perf_counter() - started:.1f} s "
        f"({snapshot['debtors']:,} accounts in debt)"
    )
    rolled = measure_all(REPORTS, runs, today)
    out(f"{len(REPORTS)} report(s), a full year each, {runs} runs per figure; ms, p50 / p95")
    head = f"{'report':18} {'run()':>15} {'page':>15} {'api':>15} {'live run()':>15} {'live/rollup':>11}"
    out(head)
    rows = []
    for name in sorted(REPORTS):
        figures = {k: (percentile(v, 50), percentile(v, 95)) for k, v in rolled[name].items()}
        live_p50, live_p95 = percentile(live[name]["run"], 50), percentile(live[name]["run"], 95)
        ratio = live_p50 / figures["run"][0] if figures["run"][0] else float("inf")
        slow = [k for k, (_p50, p95) in figures.items() if p95 > GOAL_MS]
        cells = " ".join(f"{p50:7.1f}/{p95:7.1f}" for p50, p95 in figures.values())
        out(
            f"{name:18} {cells} {live_p50:7.1f}/{live_p95:7.1f} {ratio:10.1f}x"
            + (f"  SLOW ({', '.join(slow)} > {GOAL_MS:.0f} ms p95)" if slow else "")
        )
        rows.append({"report": name, "live_p50": live_p50, "live_p95": live_p95, "ratio": ratio, **figures})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000, help="generated when the database is empty")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5, help="timings per figure")
    parser.add_argument(
        "--no-export", dest="export", action="store_false", help="skip the Excel export of the customer list"
    )
    parser.add_argument(
        "--replica",
        action="store_true",
        help="pages and API read from a real hot standby against the primary (bench_reports_replica.py)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --replica: passes of each side, in turn")
    args = parser.parse_args()
    setup("history")  # shared with bench_pages: one generated year serves both
    import logging

    from django.core.management import call_command

    from gasworks.billing.models import Bill
    from gasworks.customers.models import Customer

    logging.getLogger("django.request").setLevel(logging.ERROR)
    if not Customer.objects.exists():
        print(f"generating {args.customers} customers with {args.months} months of history ...")
        call_command("generate_data", customers=args.customers, months=args.months, no_progress=True)
    print(f"data: {Customer.objects.count():,} customers, {Bill.objects.count():,} bills")
    if args.replica:
        import bench_reports_replica

        bench_reports_replica.run(args)
        return
    run(args.runs)
    if args.export:
        # The Excel export of a list as long as the city: every customer, by the background
        # export's path (XlsxWriter's constant-memory mode); goal >= 50,000 rows/s, flat memory.
        from bench_exports import measure

        measure("xlsx")


if __name__ == "__main__":
    main()
