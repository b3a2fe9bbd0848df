"""Arrears benchmark on PostgreSQL: the arrears page and the daily late fees, before (the Python
walk over every account's bills, one ledger post per bill) and after (set-based SQL, a daily
snapshot, late fees posted in chunks through ledger.EntrySet).

N accounts with one reading each are billed by the real billing run (bench_billing's generator);
then M of the bills are moved 35 days past their due day. Prints the page's p50/p95 (live, from
the snapshot, with accounts moved since the snapshot, filtered by district), the snapshot's
rebuild time, and for late fees on M overdue bills each path's time and peak RSS (each path in
its own process, so the peaks are its own). Never asserts on time.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gw_arrears \\
        .venv/bin/python benchmarks/bench_arrears.py --accounts 200000 --overdue 100000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_arrears")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.pop("REDIS_URL", None)
# The pages are requested in-process (django.test.Client): plain HTTP to "testserver".
os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})
os.environ.update({"API_THROTTLE_USER": "1000000/minute"})

from benchmarks._setup import percentile  # noqa: E402
from benchmarks.bench_billing import ensure_database, generate  # noqa: E402

ZERO = Decimal("0.00")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the code this replaced (gasworks.billing.arrears before), as the "before" figures ---------


def old_overdue_bills(today):
    from gasworks.billing.models import Account, Bill, BillStatus, EntryKind, LedgerEntry
    from gasworks.lib.db import DecimalSum

    debt = {
        cid: -bal for cid, bal in Account.objects.filter(balance__lt=0).values_list("customer_id", "balance")
    }
    if not debt:
        return []
    fees = dict(
        LedgerEntry.objects.filter(account__customer_id__in=list(debt), kind=EntryKind.LATE_FEE)
        .values_list("account__customer_id")
        .annotate(s=DecimalSum("amount"))
    )
    remaining = {cid: max(ZERO, d - (-(fees.get(cid) or ZERO))) for cid, d in debt.items()}
    result = []
    bills = (
        Bill.objects.filter(customer_id__in=list(debt), status=BillStatus.ISSUED)
        .select_related("customer")
        .order_by("customer_id", "-period")
    )
    for bill in bills:
        left = remaining[bill.customer_id]
        if left <= 0:
            continue
        part = min(left, bill.total)
        remaining[bill.customer_id] = left - part
        if bill.due_on < today and part > 0:
            result.append((bill, part, (today - bill.due_on).days))
    return result


def old_page(today):
    """What the old view did: overdue_accounts() and aging(), each a full walk."""
    from gasworks.billing.arrears import bucket_of

    rows: dict = {}
    for bill, part, days in old_overdue_bills(today):
        row = rows.setdefault(bill.customer_id, {"customer": bill.customer, "overdue": ZERO, "days": 0})
        row["overdue"] += part
        row["days"] = max(row["days"], days)
    ordered = sorted(rows.values(), key=lambda r: (-r["days"], -r["overdue"]))
    aging: dict = defaultdict(lambda: ZERO)
    for _bill, part, days in old_overdue_bills(today):
        aging[bucket_of(days)] += part
    return ordered[:25], dict(aging)


def old_late_fees(today) -> int:
    from gasworks.billing import ledger
    from gasworks.billing.models import EntryKind, LedgerEntry
    from gasworks.lib.money import round_money
    from gasworks.system import parameters

    rate = Decimal(parameters.get("late_fee_rate_per_day"))
    cap_ratio = Decimal(parameters.get("late_fee_cap_ratio"))
    items = old_overdue_bills(today)
    charged: defaultdict = defaultdict(lambda: ZERO)
    suffix = f":{today.isoformat()}"
    done = set()
    keys = LedgerEntry.objects.filter(
        kind=EntryKind.LATE_FEE, account__customer_id__in={b.customer_id for b, _p, _d in items}
    ).values_list("idempotency_key", "amount")
    for key, amount in keys:
        if key and key.startswith("late_fee:"):
            charged[int(key.split(":")[1])] += -amount
            if key.endswith(suffix):
                done.add(int(key.split(":")[1]))
    posted = 0
    for bill, part, _days in items:
        if bill.pk in done:
            continue
        fee = min(round_money(part * rate), round_money(bill.total * cap_ratio) - charged[bill.pk])
        if fee <= 0:
            continue
        ledger.post(
            bill.customer,
            EntryKind.LATE_FEE,
            -fee,
            reference=f"Late fee {bill.period} ({today.isoformat()})",
            idempotency_key=f"late_fee:{bill.pk}:{today.isoformat()}",
        )
        posted += 1
    return posted


# --- phases, each in its own process ----------------------------------------------------------


def phase(name: str, day: str) -> dict:
    import django

    django.setup()
    from datetime import date

    from gasworks.billing import arrears

    today = date.fromisoformat(day)
    started = time.perf_counter()
    if name == "old-page":
        rows, _aging = old_page(today)
        out = {"rows": len(rows)}
    elif name == "old-fees":
        out = {"posted": old_late_fees(today)}
    elif name == "new-fees":
        out = {"posted": arrears.apply_late_fees(today)}
    else:
        raise SystemExit(f"unknown phase {name}")
    out.update(seconds=time.perf_counter() - started, rss_mb=rss_mb())
    return out


def run_phase(name: str, day) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--day", day.isoformat()],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_pages(client, urls: list[str], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return percentile(samples, 50), percentile(samples, 95)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--overdue", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--skip-old", action="store_true", help="skip the old paths (minutes at this size)")
    parser.add_argument("--skip-old-fees", action="store_true", help="skip only the old late fees (hours)")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the previous run (pages only)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.day)))
        return

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from django.conf import settings

    # The pages render without collectstatic (no manifest): plain static URLs, as in the tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from gasworks.billing import runs
    from gasworks.billing.models import ArrearsRefresh, ArrearsSnapshot
    from gasworks.billing.web_hooks import seed_tariffs

    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if args.reuse:
        measure_pages(args, today, skip_live=True)
        return
    started = time.perf_counter()
    generate(args.accounts, last_month)
    seed_tariffs()
    ArrearsSnapshot.objects.all().delete()
    ArrearsRefresh.objects.all().delete()
    run = runs.execute(runs.start_run(f"{last_month:%Y-%m}"), workers=1)
    with connection.cursor() as cur:
        # A third of the premises in a second district (the drill-down filter), and M bills
        # moved 35 days past their due day: M accounts overdue, the rest in debt, not yet due.
        cur.execute("UPDATE customers_premises SET district = '海淀区' WHERE id % 3 = 0")
        cur.execute(
            "UPDATE billing_bill SET due_on = %s WHERE id IN (SELECT id FROM billing_bill ORDER BY id LIMIT %s)",
            [today - timedelta(days=35), args.overdue],
        )
        cur.execute("ANALYZE")
    print(
        f"input: {args.accounts:,} accounts billed ({run.bills_created:,} bills), {args.overdue:,} overdue;"
        f" set up in {time.perf_counter() - started:.0f} s"
    )

    measure_pages(args, today)
    fees(args, today)


def measure_pages(args, today, skip_live: bool = False) -> None:
    from decimal import Decimal

    from django.test import Client

    from gasworks.billing import arrears, ledger
    from gasworks.customers.models import Customer
    from tests.factories import make_user

    admin = make_user("admin", username=f"bench-admin-{time.time_ns()}")
    client = Client()
    client.force_login(admin)
    pages = ["/billing/overdue/", "/billing/overdue/?page=2", "/billing/overdue/?page=400"]
    filtered = ["/billing/overdue/?district=%E6%B5%B7%E6%B7%80%E5%8C%BA&category=residential"]

    if not args.skip_old:
        old = run_phase("old-page", today)
        print(
            f"arrears page before (Python walk, twice per page): {old['seconds'] * 1000:,.0f} ms, peak RSS {old['rss_mb']:,.0f} MB"
        )
    if not skip_live:
        p50, p95 = timed_pages(client, pages, args.rounds)
        print(f"arrears page, live SQL (no snapshot): p50 {p50:,.0f} ms, p95 {p95:,.0f} ms")
    started = time.perf_counter()
    totals = arrears.refresh(today)
    print(
        f"snapshot rebuild: {time.perf_counter() - started:.1f} s ({totals['debtors']:,} accounts in debt, {totals['accounts']:,} overdue)"
    )
    p50, p95 = timed_pages(client, pages, args.rounds)
    print(f"arrears page, snapshot: p50 {p50:,.1f} ms, p95 {p95:,.1f} ms")
    if not args.skip_old:
        print(f"  ratio before / after (p95): {old['seconds'] * 1000 / p95:,.0f}x")
    for customer in Customer.objects.order_by("pk")[:200]:
        ledger.post(customer, "payment", Decimal("5.00"))
    p50, p95 = timed_pages(client, pages, args.rounds)
    print(
        f"arrears page, snapshot + 200 accounts paid since (read live): p50 {p50:,.1f} ms, p95 {p95:,.1f} ms"
    )
    p50, p95 = timed_pages(client, filtered, args.rounds)
    print(f"arrears page filtered by district and category: p50 {p50:,.1f} ms, p95 {p95:,.1f} ms")
    report = ["/api/v1/reports/arrears/?group_by=district", "/api/v1/reports/arrears/?group_by=account"]
    p50, p95 = timed_pages(client, report, args.rounds)
    print(f"arrears report API (today: district, top debtors): p50 {p50:,.1f} ms, p95 {p95:,.1f} ms")


def fees(args, today) -> None:
    from gasworks.billing import arrears

    day = today + timedelta(days=1)
    old_fees = not (args.skip_old or args.skip_old_fees)
    if old_fees:
        old = run_phase("old-fees", day)
        print(
            f"late fees before (one post per bill): {old['posted']:,} posted in {old['seconds']:.1f} s, peak RSS {old['rss_mb']:,.0f} MB"
        )
        day += timedelta(days=1)
    new = run_phase("new-fees", day)
    print(
        f"late fees set-based (chunks of {arrears.LATE_FEE_CHUNK:,}): {new['posted']:,} posted in {new['seconds']:.1f} s, peak RSS {new['rss_mb']:,.0f} MB"
    )
    if old_fees:
        print(
            f"  ratio before / after: time {old['seconds'] / new['seconds']:,.1f}x, peak RSS {old['rss_mb'] / new['rss_mb']:,.1f}x"
        )
    again = run_phase("new-fees", day)
    print(f"late fees rerun the same day: {again['posted']} posted in {again['seconds']:.1f} s")


if __name__ == "__main__":
    main()
