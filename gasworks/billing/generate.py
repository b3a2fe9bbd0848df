"""Benchmark data (generate_data's EXTRA_GENERATORS): a year of bills for the generated
customers, written by the billing run itself.

For each of the last ``months`` whole months, oldest first, a billing run of that period bills
the month's readings (metering's generator wrote them) through the run's own fast path
(runs.plan, runs.bill_chunk: set-based read, COPY of bills and lines, charges posted by
ledger.SetPosting), issued at 06:00 local on the 1st of the next month. After each chunk the
AFTER_BILLS hooks run for the bills just written (payments pays most of them), before the next
month is billed: every account's ledger then stays in time order (charge, payment, charge, ...),
as it would in production, and its balance_after chain is the one verify_ledger walks."""

import datetime as dt
import multiprocessing
import random
import time

from django.db import connection, connections
from django.utils import timezone

from gasworks.billing import runs
from gasworks.billing.models import Account, Bill, BillLine, LedgerEntry, Tariff
from gasworks.billing.periods import parse_period
from gasworks.customers.models import Customer
from gasworks.lib.db import analyze
from gasworks.metering.models import Meter, Reading

# Callables (lo, hi, period, issued_at, rng) run after the bills of customers lo..hi (ids,
# inclusive) for `period` (a billing.periods.Period) were written, each in its own transactions.
AFTER_BILLS: list = []
# Callables (period, issued_at, customer_ids) run before a month is billed, in this process (the chunks may
# run in forked workers): what the hooks share across chunks is made here (payments' shifts).
BEFORE_MONTH: list = []
# Models the AFTER_BILLS hooks write, re-analyzed with billing's after each month.
AFTER_BILLS_TABLES: list = []


def month_keys(today: dt.date, months: int) -> list[str]:
    """The last ``months`` whole months before ``today``'s, oldest first, as "YYYY-MM"."""
    keys = []
    for back in range(months, 0, -1):
        index = today.year * 12 + today.month - 1 - back
        keys.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return keys


def issue_time(period) -> dt.datetime:
    """Bills of a period are issued at 06:00 local on the first day after it."""
    return timezone.make_aware(dt.datetime.combine(period.end, dt.time(6)))


def generate(customer_ids: range, rng, stdout, months: int = 0, workers: int = 2) -> None:
    if not months:
        return
    from gasworks.billing.web_hooks import seed_tariffs

    if not Tariff.objects.exists():
        seed_tariffs()
    started = time.perf_counter()
    bills = 0
    analyze(Customer, Meter, Reading)
    seed = rng.randrange(1 << 30)
    for key in month_keys(timezone.localdate(), months):
        period = parse_period(key)
        at = issue_time(period)
        for hook in BEFORE_MONTH:
            hook(period, at, customer_ids)
        run = runs.start_run(key)
        jobs = [(run.pk, lo, hi, key, at, seed) for lo, hi in runs.plan(run)]
        if workers > 1 and len(jobs) > 1 and not connection.in_atomic_block:
            # Like the run's own parallel path: forked processes, each chunk its own
            # transactions on the worker's own connection.
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                bills += sum(pool.imap_unordered(_chunk, jobs))
                pool.close()
                pool.join()
        else:
            bills += sum(map(_chunk, jobs))
        runs.finish(run.pk)
        # The next month's run reads this one's bills (prior use, history): plan it on
        # statistics that know they are there.
        analyze(Bill, BillLine, LedgerEntry, Account, *AFTER_BILLS_TABLES)
    elapsed = time.perf_counter() - started
    stdout.write(
        f"billing: {bills} bills over {months} months in {elapsed:.1f} s ({bills / max(elapsed, 1e-9):,.0f} bills/s"
        f"{', with payments' if AFTER_BILLS else ''})"
    )


def _chunk(job: tuple) -> int:
    """One chunk of a month: its bills, then the AFTER_BILLS hooks, with a random generator of
    its own (the same data whatever process or order the chunks run in)."""
    run_id, lo, hi, key, at, seed = job
    period = parse_period(key)
    written = runs.bill_chunk(run_id, lo, hi, at=at)
    rng = random.Random(f"{seed}:{key}:{lo}")
    for hook in AFTER_BILLS:
        hook(lo, hi, period, at, rng)
    return written
