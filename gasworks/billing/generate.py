"""Benchmark data (generate_data's EXTRA_GENERATORS): a year of bills for the generated
customers, written by the billing run itself.

For each of the last ``months`` whole months, oldest first, a billing run of that period bills
the month's readings (metering's generator wrote them) through the run's own fast path
(runs.plan, runs.bill_chunk: set-based read, COPY of bills and lines, charges posted by
ledger.SetPosting), issued at 06:00 local on the 1st of the next month. After each chunk the
AFTER_BILLS hooks run for the bills just written (payments pays most of them), before the next
month is billed: every account's ledger then stays in time order (charge, payment, charge, ...),
as it would in production, and its balance_after chain is the one verify_ledger walks.

Late fees: the daily job's charge (arrears.charge_late_fees, the set-based posting
apply_late_fees makes) on one day of each month, FEE_DAY days after the bills were issued (five
days past the usual due date), at 02:00 local when the job runs. It is called by the payments
hook between the payments made before that moment and those after it (so the ledger stays in
time order), and late payers then pay the fee with their bill. One day a month, not every day:
a daily fee on every overdue bill would be some 30 ledger rows per debtor a month, more than
the bills and payments together, for a report figure that one day a month already fills."""

import datetime as dt
import multiprocessing
import random
import time
from decimal import Decimal

from django.db import connection, connections
from django.utils import timezone

from gasworks.billing import arrears, ledger, runs
from gasworks.billing.events import BillingRunFinished, BillsIssued
from gasworks.billing.models import Account, Bill, BillLine, LedgerEntry, Tariff
from gasworks.billing.periods import parse_period
from gasworks.customers.models import Customer
from gasworks.lib import events
from gasworks.lib.db import analyze, bulk_load_session
from gasworks.metering.models import Meter, Reading

# Callables (lo, hi, period, issued_at, rng, late_fees=LateFees) run after the bills of
# customers lo..hi (ids, inclusive) for `period` (a billing.periods.Period) were written, each in
# its own transactions; one that writes money after the month's fee day calls late_fees() first.
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


FEE_DAY = 20  # days after a bill's issue when its month's late fees are charged


def fee_time(issued_at: dt.datetime) -> dt.datetime:
    day = timezone.localdate(issued_at) + dt.timedelta(days=FEE_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(2)))


class LateFees:
    """The late fees of one chunk's customers (ids lo..hi) on a month's fee day, charged once,
    when first called (or never, while that day is still to come). Returns {bill id: the fee
    charged on it that day}, so that a payment made after the charge can cover its bill's (a
    month's own bill has had no fee before its fee day)."""

    def __init__(self, lo: int, hi: int, issued_at: dt.datetime):
        self.lo, self.hi, self.at = lo, hi, fee_time(issued_at)
        self.charged: dict[int, Decimal] | None = None

    def __call__(self) -> dict[int, Decimal]:
        if self.charged is None:
            self.charged = self._charge() if self.at <= timezone.now() else {}
        return self.charged

    def _charge(self) -> dict[int, Decimal]:
        day = timezone.localdate(self.at)
        debtors = list(
            Account.objects.filter(customer_id__gte=self.lo, customer_id__lte=self.hi, balance__lt=0)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
        )
        if not debtors:
            return {}
        return arrears.charge_late_fees(debtors, day, self.at)


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
    bulk_load_session()
    # Past months: no bill notices queued now for bills a year old (the sender would send them
    # all), and no report rollup rebuilt after each month's run (the nightly refresh, or the
    # benchmark's, builds them once over the whole history).
    with events.muted(BillsIssued, BillingRunFinished):
        for number, key in enumerate(month_keys(timezone.localdate(), months), start=1):
            month_started = time.perf_counter()
            bills += _month(key, customer_ids, seed, workers)
            # Each month's time: a long history must not make the later months slower.
            stdout.write(f"billing: {key} in {time.perf_counter() - month_started:.1f} s")
            if number & (number - 1) == 0:
                # The next runs read the bills so far (prior use, history): statistics that
                # know they are there, refreshed as the tables double (months 1, 2, 4, 8...),
                # not every month, so the ANALYZEs stay a small share of a long history.
                analyze(Bill, BillLine, LedgerEntry, Account, *AFTER_BILLS_TABLES)
    elapsed = time.perf_counter() - started
    stdout.write(
        f"billing: {bills} bills over {months} months in {elapsed:.1f} s ({bills / max(elapsed, 1e-9):,.0f} bills/s"
        f"{', with payments' if AFTER_BILLS else ''})"
    )


def _month(key: str, customer_ids: range, seed: int, workers: int) -> int:
    """One month billed by a run of its own, chunk by chunk; returns the bills written."""
    period = parse_period(key)
    at = issue_time(period)
    for hook in BEFORE_MONTH:
        hook(period, at, customer_ids)
    run = runs.start_run(key)
    jobs = [(run.pk, lo, hi, key, at, seed) for lo, hi in runs.plan(run)]
    written = 0
    if jobs:
        # The first chunk alone, then statistics for the ledger's partition of the month it
        # wrote to: the late fees' read of the other chunks joins every debtor's entries there,
        # and planned on an empty partition's statistics it walks all the month's late fees
        # once per debtor (seconds a chunk, growing as the month fills).
        written = _chunk(jobs.pop(0))
        ledger.analyze_month(timezone.localdate(at))
    if workers > 1 and len(jobs) > 1 and not connection.in_atomic_block:
        # Like the run's own parallel path: forked processes, each chunk its own transactions
        # on the worker's own connection.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            written += sum(pool.imap_unordered(_chunk, jobs))
            pool.close()
            pool.join()
        bulk_load_session()  # this process's connection was closed for the fork
    else:
        written += sum(map(_chunk, jobs))
    runs.finish(run.pk)
    return written


def _chunk(job: tuple) -> int:
    """One chunk of a month: its bills, then the AFTER_BILLS hooks, with a random generator of
    its own (the same data whatever process or order the chunks run in)."""
    run_id, lo, hi, key, at, seed = job
    period = parse_period(key)
    bulk_load_session()
    written = runs.bill_chunk(run_id, lo, hi, at=at)
    rng = random.Random(f"{seed}:{key}:{lo}")
    late_fees = LateFees(lo, hi, at)
    for hook in AFTER_BILLS:
        hook(lo, hi, period, at, rng, late_fees=late_fees)
    late_fees()  # charged by now unless no hook asked
    return written
