"""Notifications benchmarks on PostgreSQL, by part. Print figures; never assert on time.

    .venv/bin/python benchmarks/bench_notifications.py --part billing --accounts 100000
    .venv/bin/python benchmarks/bench_notifications.py --part billing --accounts 1000000

--part billing: the same billing run (billing_bench.py's generated accounts, one reading each)
twice in one process, without and then with the bill notices (portal and SMS for everyone,
WeChat and mail for some; written set-based in the run's transactions). Prints bills/s and the
run's time as a ratio to a raw COPY of the rows it wrote (bills, lines, ledger entries, and the
messages when on), measured right after it, so a loaded machine still gives comparable figures.
The sales rollup's refresh that follows a run (a Celery task in production) is timed apart.
--server tuned: on a throwaway PostgreSQL with docs/deploy.md's settings for the primary
(benchmarks/_server.py) instead of the machine's defaults.
--repeat N alternates N pairs of runs and keeps the best of each.

The sender's benchmark (messages/s to a local stub provider over HTTP, CPU per message) is
benchmarks/bench_notify_sender.py.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _server

_server.from_argv("bench_notifications")  # --server tuned: before BENCH_DATABASE_URL is read
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_notifications_billing"
)
os.environ["NOTIFY_SMS_PROVIDER"] = "dev"  # SMS and WeChat configured (the development channel)
os.environ["NOTIFY_WECHAT_PROVIDER"] = "dev"
os.environ["NOTIFY_SEND_INLINE"] = "false"  # measure the writing, not a sender run after each chunk

import bench_billing as billing_bench  # noqa: E402 (after the environment it reads at import)

RUN_TABLES = ("billing_bill", "billing_billline", "billing_ledgerentry")


def _preferences(share_wechat=10, share_email=20, share_opted_out=25) -> None:
    """Some customers chose WeChat (every share_wechat-th) or mail, some opted out of bill notices."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO notifications_preference (customer_id, sms, wechat, email, email_address,
                wechat_openid, opt_out, language, updated_at)
            SELECT id, true, id %% %(w)s = 0, id %% %(e)s = 0,
                CASE WHEN id %% %(e)s = 0 THEN 'c' || id || '@example.com' ELSE '' END,
                CASE WHEN id %% %(w)s = 0 THEN 'openid' || id ELSE '' END,
                CASE WHEN id %% %(o)s = 0 THEN '["bill_issued"]'::jsonb ELSE '[]'::jsonb END,
                CASE WHEN id %% 7 = 0 THEN 'en' ELSE 'zh-hans' END, now()
            FROM customers_customer
            WHERE id %% %(w)s = 0 OR id %% %(e)s = 0 OR id %% %(o)s = 0 OR id %% 7 = 0""",
            {"w": share_wechat, "e": share_email, "o": share_opted_out},
        )
        cur.execute("ANALYZE notifications_preference")


def _one_run(args, period: str, notices: bool) -> dict:
    from gasworks import subscriptions
    from gasworks.billing import runs
    from gasworks.billing.events import BillingRunFinished, BillsIssued
    from gasworks.billing.models import Bill
    from gasworks.lib import events
    from gasworks.notifications import handlers
    from gasworks.notifications.models import Message
    from gasworks.reports import tasks as report_tasks

    billing_bench.generate(args.accounts, args.period_start)
    _preferences()
    if notices:
        events.subscribe(BillsIssued, handlers.bills_issued, in_transaction=True)
    else:
        events.unsubscribe(BillsIssued, handlers.bills_issued)
    runs.CHUNK_SPAN = args.chunk
    # The sales rollup's refresh after a run is a Celery task in production (REDIS_URL set); with
    # no broker here it would run inline inside the timed run, so it is timed on its own.
    events.unsubscribe(BillingRunFinished, subscriptions.refresh_sales_after_run)
    started = time.perf_counter()
    run = runs.execute(runs.start_run(period), workers=args.workers)
    elapsed = time.perf_counter() - started
    events.subscribe(BillingRunFinished, subscriptions.refresh_sales_after_run)
    started = time.perf_counter()
    report_tasks.refresh_rollups(["sales"])
    refresh_s = time.perf_counter() - started
    bills, messages = Bill.objects.count(), Message.objects.count()
    copy_s = billing_bench.raw_copy_baseline(RUN_TABLES)
    messages_copy_s = billing_bench.raw_copy_baseline(("notifications_message",)) if notices else 0.0
    events.subscribe(BillsIssued, handlers.bills_issued, in_transaction=True)
    return {
        "status": run.status,
        "bills": bills,
        "messages": messages,
        "s": elapsed,
        "refresh_s": refresh_s,
        "copy_s": copy_s + messages_copy_s,
        "messages_copy_s": messages_copy_s,
    }


def bench_billing(args) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from gasworks.billing.web_hooks import seed_tariffs

    today = timezone.localdate()
    args.period_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    period = f"{args.period_start:%Y-%m}"
    seed_tariffs()
    print(
        f"billing run of {args.accounts:,} accounts, period {period}, chunk {args.chunk}, {args.workers} worker(s)"
    )
    results: dict = {}
    for _ in range(args.repeat):  # alternated, the best of each kept: the machine is noisy
        for notices in (False, True):
            r = _one_run(args, period, notices)
            if notices not in results or r["s"] < results[notices]["s"]:
                results[notices] = r
    for notices in (False, True):
        r = results[notices]
        label = "with notices   " if notices else "without notices"
        print(
            f"{label}: {r['bills']:,} bills, {r['messages']:,} messages, {r['s']:.1f} s, "
            f"{r['bills'] / r['s']:,.0f} bills/s; raw COPY of its rows {r['copy_s']:.1f} s, "
            f"run / COPY = {r['s'] / r['copy_s']:.1f}x ({r['status']}); then the sales rollup's refresh"
            f" (a Celery task in production) {r['refresh_s']:.1f} s"
        )
    off, on = results[False], results[True]
    extra = on["s"] - off["s"]
    print(
        f"notices cost: run time x{on['s'] / off['s']:.2f} ({extra:+.1f} s for {on['messages']:,} messages,"
        f" {on['messages'] / on['bills']:.2f} a bill; a raw COPY of them {on['messages_copy_s']:.1f} s,"
        f" notices / their COPY = {extra / on['messages_copy_s']:.1f}x)"
    )
    print(
        f"at this machine's speed, a run with notices needs the run without them at"
        f" {20_000 * on['s'] / off['s']:,.0f} bills/s to stay >= 20,000 bills/s"
    )


# Named parts; each takes the parsed arguments.
PARTS = {"billing": bench_billing}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=sorted(PARTS), action="append", help="parts to run (default: all)")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="accounts per billing chunk")
    parser.add_argument("--workers", type=int, default=2, help="processes billing chunks side by side")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs, alternated; the best of each")
    _server.add_argument(parser)
    args = parser.parse_args()

    billing_bench.ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for name in args.part or sorted(PARTS):
        PARTS[name](args)


if __name__ == "__main__":
    main()
