"""Issue 13's slow spots at a city's size, timed with whichever code is on the path, so the
same data can be measured before a change (the code of another checkout) and after it:

- the full rollup refresh, per rollup (rollups.refresh(full=True, names=[name]));
- the report pages that spent their time rendering (collections and LPG over a year of days);
- the reading report's zero-use list over a year;
- the audit log searched by text (q: part of a customer's name, and an account number).

    .venv/bin/python benchmarks/bench_report_pages.py --runs 5                 # this checkout
    .venv/bin/python benchmarks/bench_report_pages.py --code /work/main        # another one's code

On the history database (BENCH_DATABASE_URL_HISTORY, as bench_reports). Prints p50/p95 in ms
(seconds for a refresh). Never asserts on time."""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm: imports, the page cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[max(0, round(0.95 * len(samples)) - 1)]


def pages(runs: int, out) -> None:
    from django.utils import timezone

    from gasworks.customers.models import Customer

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_reports import _client

    client = _client()
    today = timezone.localdate()
    year = f"from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"
    middle = Customer.objects.order_by("pk")[Customer.objects.count() // 2]
    urls = {
        "collections page, a year of days": f"/reports/collections/?{year}",
        "collections page, a year by channel": f"/reports/collections/?{year}&group_by=channel",
        "lpg page, a year of days": f"/reports/lpg/?{year}",
        "reading: zero-use list, a year": f"/reports/reading/?{year}&group_by=zero_use",
        "audit log q=<a name>": f"/system/audit/?q={middle.name}",
        "audit log q=<an account number>": f"/system/audit/?q={middle.account_no}",
    }
    for name, url in urls.items():
        status = client.get(url).status_code
        p50, p95 = timed(lambda u=url: client.get(u), runs)
        out(f"{name:40} {p50:9.1f} / {p95:9.1f} ms  ({status}, {url})")


def refresh(out, only: list[str]) -> None:
    import importlib

    from gasworks.reports import rollups

    # Some rollups register when their report's store is first imported: import them all.
    for module in ("arrears", "collections.figures", "lpg.store", "reading", "safety.store", "sales"):
        importlib.import_module(f"gasworks.reports.{module}")
    for name in only or list(rollups.ROLLUPS):
        started = time.perf_counter()
        done = rollups.refresh([name], full=True)
        out(f"refresh(full=True) {name:24} {time.perf_counter() - started:9.1f} s  ({done[name]} keys)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", default="", help="another checkout whose code to time (before a change)")
    parser.add_argument("--skip-refresh", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--rollup", action="append", default=[], help="refresh only these (repeatable)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _setup

    if args.code:
        _setup.ROOT = Path(args.code).resolve()  # its gasworks is the one imported
    _setup.setup("history")
    import gasworks
    from gasworks.customers.models import Customer

    print(f"code: {Path(gasworks.__file__).parent}; data: {Customer.objects.count():,} customers")
    if not args.skip_refresh:
        refresh(print, args.rollup)
    if not args.skip_pages:
        pages(args.runs, print)


if __name__ == "__main__":
    main()
