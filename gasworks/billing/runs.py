"""Billing runs: one bill per active account with billable readings in a period.

A run is cut into chunks of CHUNK_SPAN accounts (customer-id ranges). Each chunk is one
transaction: one set-based read (readings, history and prior use aggregated per customer in
SQL), pricing over plain tuples with a per-chunk cache (accounts sharing a tariff, household
factor, volume and prior use share one price), and bulk writes (COPY) of bills, lines, ledger
entries and the cached balances. A crash rolls back only the chunk in flight; a rerun of the
period plans only accounts that have no bill or review yet (and the unique constraint on
customer + period stops a duplicate even from a concurrent process), so it continues where it
stopped. Chunks may run in several processes (or Celery workers). Accounts whose bill looks
implausible are parked for review.
"""

import multiprocessing
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Avg, Count, Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import held_back
from gasworks.billing.models import (
    RUN_TRANSITIONS,
    Account,
    Bill,
    BillingRun,
    BillLine,
    BillReview,
    BillStatus,
    EntryKind,
    LedgerEntry,
    PrepaidCharge,
    ReviewStatus,
    RunStatus,
)
from gasworks.billing.periods import Period, parse_period
from gasworks.billing.tariffs import Pricer, load_specs
from gasworks.customers.models import Customer
from gasworks.customers.models import Status as CustomerStatus
from gasworks.errors import DomainError
from gasworks.lib.db import DecimalSum, array_literal, copy_text
from gasworks.lib.tiers import TariffError
from gasworks.metering.models import BILLABLE_STATUSES, Reading
from gasworks.system import parameters

CHUNK_SPAN = 10000  # accounts per chunk (one transaction)
ZERO = Decimal("0")
MONEY0 = Decimal("0.00")


def stage(name: str) -> None:
    """A named point inside a chunk's transaction; tests make it raise to simulate a crash."""


def set_status(run: BillingRun, to: str, **fields) -> None:
    """Move a run along its transition table (an illegal move raises), saving ``fields`` too."""
    current = BillingRun.objects.values_list("status", flat=True).get(pk=run.pk)
    if to not in RUN_TRANSITIONS[current]:
        raise DomainError(
            "illegal_run_transition",
            _("A %(a)s run cannot become %(b)s.") % {"a": current, "b": to},
        )
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    BillingRun.objects.filter(pk=run.pk).update(status=to, **fields)


def start_run(period_text, by=None) -> BillingRun:
    """The period's unfinished run (to continue it), or a new one. Bad periods are a 400."""
    period = parse_period(period_text)
    with transaction.atomic():
        run = (
            BillingRun.objects.select_for_update()
            .filter(period=period.key, status__in=[RunStatus.PENDING, RunStatus.RUNNING, RunStatus.FAILED])
            .order_by("pk")
            .first()
        )
        if run is None:
            run = BillingRun.objects.create(period=period.key, created_by=by)
    return run


def cancel_run(run: BillingRun) -> None:
    """Stop after the chunk in flight; bills already written stay (they are correct)."""
    set_status(run, RunStatus.CANCELLED, finished_at=timezone.now())


def _candidates(period: Period):
    return Reading.objects.filter(
        taken_at__gte=period.start_at,
        taken_at__lt=period.end_at,
        status__in=BILLABLE_STATUSES,
        customer__status=CustomerStatus.ACTIVE,
        prepaid_charge__isnull=True,
    )


def plan(run: BillingRun) -> list[tuple[int, int]]:
    """Chunks still to do, as customer-id ranges of CHUNK_SPAN accounts each, and mark the run
    running. Only customers with no bill and no review for the period count (an anti-join on
    their unique indexes), so a rerun of a finished period plans nothing instead of re-reading
    every account, and a resumed run continues exactly where bills are missing, whatever order
    its chunks finished in (parallel workers, Celery)."""
    period = parse_period(run.period)
    same = {"customer_id": OuterRef("customer_id"), "period": period.key}
    todo = (
        _candidates(period)
        .exclude(Exists(Bill.objects.filter(**same)))
        .exclude(Exists(BillReview.objects.filter(**same)))
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )
    chunks: list[tuple[int, int]] = []
    count, lo, last = 0, None, None
    for last in todo.iterator(chunk_size=20000):
        lo = last if lo is None else lo
        count += 1
        if count % CHUNK_SPAN == 0:
            chunks.append((lo, last))
            lo = None
    if lo is not None:
        chunks.append((lo, last))
    set_status(
        run,
        RunStatus.RUNNING,
        accounts_total=run.bills_created + run.parked + count,
        chunks_total=run.chunks_done + len(chunks),
        started_at=run.started_at or timezone.now(),
        error="",
    )
    return chunks


def execute(run: BillingRun, on_chunk=None, chunks=None, workers: int = 1) -> BillingRun:
    """Run (or continue) ``run``: on Celery workers when REDIS_URL is set, else here, chunk by
    chunk, checking for cancellation between chunks; with workers > 1 in that many processes,
    each on its own connection. ``chunks`` from plan(run) if the caller planned already.
    Returns the refreshed run."""
    if chunks is None:
        chunks = plan(run)
    if settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        from gasworks.billing import tasks

        if not chunks:
            finish(run.pk)
        for lo, hi in chunks:
            tasks.bill_chunk_task.delay(run.pk, lo, hi)
        run.refresh_from_db()
        return run
    # Other processes cannot see what an open transaction of the caller's holds (tests, or a
    # caller's own atomic block): then stay in this process.
    if workers > 1 and len(chunks) > 1 and not connection.in_atomic_block:
        _execute_in_processes(run, chunks, workers, on_chunk)
        run.refresh_from_db()
        return run
    for lo, hi in chunks:
        if BillingRun.objects.values_list("status", flat=True).get(pk=run.pk) == RunStatus.CANCELLED:
            break
        try:
            bill_chunk(run.pk, lo, hi)
        except Exception as exc:
            set_status(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        if on_chunk:
            on_chunk(lo, hi)
    else:
        finish(run.pk)
    run.refresh_from_db()
    return run


class RunFailed(RuntimeError):
    """A chunk failed in a worker process; the run is marked failed and a rerun continues."""


def _execute_in_processes(run: BillingRun, chunks, workers: int, on_chunk) -> None:
    """Chunks on a pool of forked processes. The database does the locking: each chunk is its
    own transaction on its own connection, bills are unique per customer and period, and plan()
    finds what is missing however the chunks interleaved. A failure marks the run failed and
    the remaining chunks are skipped (each worker checks the run's status first)."""
    connections.close_all()  # a forked child must open its own connection, never share this one
    failure = None
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for lo, hi, outcome in pool.imap_unordered(_chunk_in_worker, [(run.pk, lo, hi) for lo, hi in chunks]):
            if outcome == "done" and on_chunk:
                on_chunk(lo, hi)
            elif outcome not in ("done", "skipped") and failure is None:
                failure = outcome
                set_status(run, RunStatus.FAILED, error=outcome)
        pool.close()
        pool.join()
    if failure:
        raise RunFailed(failure)
    if BillingRun.objects.values_list("status", flat=True).get(pk=run.pk) == RunStatus.RUNNING:
        finish(run.pk)


def _chunk_in_worker(job: tuple[int, int, int]) -> tuple[int, int, str]:
    run_id, lo, hi = job
    try:
        if BillingRun.objects.values_list("status", flat=True).get(pk=run_id) != RunStatus.RUNNING:
            return lo, hi, "skipped"  # cancelled, or another chunk failed
        bill_chunk(run_id, lo, hi)
    except Exception as exc:  # reported to the parent as text: exceptions may not pickle
        return lo, hi, f"{type(exc).__name__}: {exc}"[:2000]
    return lo, hi, "done"


def finish(run_id: int) -> None:
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.RUNNING and run.chunks_done >= run.chunks_total:
            held = held_back.report(parse_period(run.period))
            set_status(run, RunStatus.DONE, finished_at=timezone.now(), held_back=held)


# One candidate account of a chunk, as a plain tuple (read set-based, priced in a tight loop):
# (customer id, category, gas use, household size, volume, reading from, reading to,
#  issued bills before the period, their average volume, {tariff year: prior volume}).


def _read_chunk(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """The chunk's unbilled candidates in customer order (parked ones too when ``force``)."""
    if connection.vendor == "postgresql":
        return _read_chunk_sql(period, lo, hi, force)
    return _read_chunk_orm(period, lo, hi, force)


def _read_chunk_sql(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """PostgreSQL: one statement; readings, history and prior use aggregated per customer by
    GROUP BY, accounts already billed (or parked) left out by the unique indexes."""
    t = {m.__name__: m._meta.db_table for m in (Reading, Customer, Bill, BillLine, BillReview, PrepaidCharge)}
    parked = (
        ""
        if force
        else f"AND NOT EXISTS (SELECT 1 FROM {t['BillReview']} v"  # noqa: S608 - a model's table
        " WHERE v.customer_id = r.customer_id AND v.period = %(period)s AND v.customer_id BETWEEN %(lo)s AND %(hi)s)"
    )
    sql = f"""
    WITH r AS (
        SELECT rd.customer_id,
               sum(coalesce(rd.corrected_consumption, rd.consumption, 0)) AS volume,
               -- first and last reading by time: min/max of [epoch, value] pairs, cheaper
               -- than an ordered array_agg (which sorts every group on its own)
               (min(ARRAY[extract(epoch FROM rd.taken_at)::numeric,
                          rd.value - coalesce(rd.consumption, 0)]))[2] AS reading_from,
               (max(ARRAY[extract(epoch FROM rd.taken_at)::numeric, rd.value]))[2] AS reading_to
        FROM {t["Reading"]} rd
        WHERE rd.customer_id BETWEEN %(lo)s AND %(hi)s
          AND rd.taken_at >= %(start)s AND rd.taken_at < %(end)s
          AND rd.status = ANY(%(statuses)s)
          AND NOT EXISTS (
              SELECT 1 FROM {t["PrepaidCharge"]} pc
              WHERE pc.reading_id = rd.id AND pc.customer_id BETWEEN %(lo)s AND %(hi)s
          )
        GROUP BY rd.customer_id
    ), hist AS (
        SELECT customer_id, count(*) AS n, avg(volume) AS avg_volume
        FROM {t["Bill"]}
        WHERE customer_id BETWEEN %(lo)s AND %(hi)s AND status = %(issued)s AND period < %(period)s
        GROUP BY customer_id
    ), prior AS (
        SELECT customer_id, array_agg(tariff_year) AS years, array_agg(volume) AS volumes
        FROM (
            SELECT b.customer_id, l.tariff_year, sum(l.volume) AS volume
            FROM {t["BillLine"]} l JOIN {t["Bill"]} b ON b.id = l.bill_id
            WHERE b.customer_id BETWEEN %(lo)s AND %(hi)s AND b.status = %(issued)s
              AND b.period < %(period)s AND l.tariff_year >= %(since)s
            GROUP BY 1, 2
            UNION ALL
            SELECT pc.customer_id, pc.tariff_year, sum(pc.volume)
            FROM {t["PrepaidCharge"]} pc JOIN {t["Reading"]} rd ON rd.id = pc.reading_id
            WHERE pc.customer_id BETWEEN %(lo)s AND %(hi)s AND rd.taken_at < %(start)s
              AND pc.tariff_year >= %(since)s
            GROUP BY 1, 2
        ) AS used
        GROUP BY customer_id
    )
    SELECT c.id, c.category, c.gas_use, c.household_size, r.volume, r.reading_from, r.reading_to,
           h.n, h.avg_volume, p.years, p.volumes
    FROM r
    JOIN {t["Customer"]} c ON c.id = r.customer_id
    LEFT JOIN hist h ON h.customer_id = r.customer_id
    LEFT JOIN prior p ON p.customer_id = r.customer_id
    WHERE c.status = %(active)s AND c.id BETWEEN %(lo)s AND %(hi)s
      AND NOT EXISTS (
          SELECT 1 FROM {t["Bill"]} b
          WHERE b.customer_id = r.customer_id AND b.period = %(period)s AND b.customer_id BETWEEN %(lo)s AND %(hi)s
      )
      {parked}
    ORDER BY c.id
    """  # noqa: S608 - table names come from the models, values are parameters
    params = {
        "lo": lo,
        "hi": hi,
        "start": period.start_at,
        "end": period.end_at,
        "statuses": list(BILLABLE_STATUSES),
        "period": period.key,
        "since": period.start - timedelta(days=366),
        "issued": BillStatus.ISSUED.value,
        "active": CustomerStatus.ACTIVE.value,
    }
    with connection.cursor() as cursor:
        # The range conditions above keep every join to the chunk's index range even while the
        # planner's statistics lag behind a table the run is filling; a chunk is too small for
        # parallel workers to pay for starting.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for cid, category, gas_use, size, volume, rfrom, rto, n, avg, years, volumes in rows:
        prior: dict = {}
        if years:
            for year, used in zip(years, volumes, strict=True):
                prior[year] = prior.get(year, ZERO) + used
        result.append((cid, category, gas_use, size, volume, rfrom, rto, n or 0, avg, prior))
    return result


def _read_chunk_orm(period: Period, lo: int, hi: int, force: bool) -> list[tuple]:
    """Any other database: the same tuples from a few ORM queries."""
    rows = (
        _candidates(period)
        .filter(customer_id__gte=lo, customer_id__lte=hi)
        .order_by("customer_id", "taken_at")
        .values_list("customer_id", "value", "consumption", "corrected_consumption")
    )
    usage: dict[int, list] = {}
    for cid, value, consumption, corrected in rows.iterator(chunk_size=5000):
        used = corrected if corrected is not None else consumption
        item = usage.get(cid)
        if item is None:
            item = usage[cid] = [ZERO, value - consumption if consumption is not None else value, None]
        item[0] += used or ZERO
        item[2] = value
    in_range = {"customer_id__gte": lo, "customer_id__lte": hi}
    done = set(Bill.objects.filter(period=period.key, **in_range).values_list("customer_id", flat=True))
    if not force:
        done |= set(
            BillReview.objects.filter(period=period.key, **in_range).values_list("customer_id", flat=True)
        )
    todo = sorted(set(usage) - done)
    if not todo:
        return []
    customers = {
        pk: (category, gas_use, size)
        for pk, category, gas_use, size in Customer.objects.filter(pk__gte=lo, pk__lte=hi).values_list(
            "pk", "category", "gas_use", "household_size"
        )
    }
    prior = _prior_use(lo, hi, period)
    history = {
        cid: (n, avg)
        for cid, avg, n in Bill.objects.filter(status=BillStatus.ISSUED, period__lt=period.key, **in_range)
        .values_list("customer_id")
        .annotate(avg=Avg("volume"), n=Count("pk"))
    }
    result = []
    for cid in todo:
        n, avg = history.get(cid, (0, None))
        result.append((cid, *customers[cid], *usage[cid], n, avg, dict(prior.get(cid, {}))))
    return result


def _prior_use(lo: int, hi: int, period: Period) -> dict[int, dict]:
    """Volume already billed (or prepaid-charged) per customer and tariff year before the period."""
    since = period.start - timedelta(days=366)
    prior: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    lines = (
        BillLine.objects.filter(
            bill__customer_id__gte=lo,
            bill__customer_id__lte=hi,
            bill__status=BillStatus.ISSUED,
            bill__period__lt=period.key,
            tariff_year__gte=since,
        )
        .values_list("bill__customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    charges = (
        PrepaidCharge.objects.filter(
            customer_id__gte=lo,
            customer_id__lte=hi,
            reading__taken_at__lt=period.start_at,
            tariff_year__gte=since,
        )
        .values_list("customer_id", "tariff_year")
        .annotate(v=DecimalSum("volume"))
    )
    for customer_id, year, volume in [*lines, *charges]:
        prior[customer_id][year] += volume
    return prior


def bill_chunk(
    run_id: int | None, lo: int, hi: int, period_key: str | None = None, force: bool = False
) -> int:
    """Bill every unbilled candidate with lo <= customer id <= hi; returns bills written.
    ``force`` skips the plausibility check (a person approved the bill)."""
    run = BillingRun.objects.get(pk=run_id) if run_id else None
    period = parse_period(run.period if run else period_key)
    now = timezone.now()
    today = timezone.localdate(now)
    due_on = today + timedelta(days=int(parameters.get("bill_due_days")))
    review_factor = Decimal(parameters.get("bill_review_factor"))
    review_min_bills = int(parameters.get("bill_review_min_bills"))
    pricer = Pricer(load_specs(), period.start, period.end)
    with transaction.atomic():
        candidates = _read_chunk(period, lo, hi, force)
        if not candidates:
            _count(run, 0, 0, hi)
            return 0
        accounts = _lock_accounts([row[0] for row in candidates])
        # Priced accounts: (customer id, volume, from, to, PricedBill, total, tariff id, lines).
        bills: list[tuple] = []
        reviews: list[BillReview] = []
        for cid, category, gas_use, size, volume, rfrom, rto, n_past, avg_past, prior in candidates:
            spec, factor = pricer.tariff_of(category, gas_use, size)
            try:
                if spec is None:
                    raise TariffError("no_tariff", "no tariff for the customer's category")
                priced, total, lines = pricer.price(spec, factor, volume, prior)
            except TariffError as exc:
                reviews.append(_review(run, cid, period, volume, MONEY0, ZERO, exc.code, now))
                continue
            if not force and n_past >= review_min_bills and avg_past and volume > avg_past * review_factor:
                reviews.append(_review(run, cid, period, volume, total, avg_past, "implausible", now))
                continue
            bills.append((cid, volume, rfrom, rto, priced, total, spec.tariff_id, lines))
        balances = _settle_accounts(bills, accounts, now)
        bill_ids = _insert_bills(bills, balances, period, run_id, today, due_on, now)
        stage("bills")
        _insert_lines(bills, bill_ids)
        stage("lines")
        _post_charges(bills, bill_ids, balances, now, period)
        stage("ledger")
        _write_balances({pk: after for pk, _before, after, existing in balances.values() if existing})
        if reviews:
            BillReview.objects.filter(
                period=period.key, customer_id__in=[r.customer_id for r in reviews], status=ReviewStatus.OPEN
            ).delete()
            BillReview.objects.bulk_create(reviews, ignore_conflicts=True)
        if force and bills:
            BillReview.objects.filter(
                period=period.key, customer_id__in=[b[0] for b in bills], status=ReviewStatus.OPEN
            ).update(status=ReviewStatus.BILLED)
        _count(run, len(bills), len(reviews), hi)
        stage("chunk_done")
        prepaid_ids = [cid for cid, (_pk, _bal, prepaid) in accounts.items() if prepaid]
        if prepaid_ids:
            from gasworks.billing import prepaid

            transaction.on_commit(lambda: prepaid.after_charge(prepaid_ids))
    return len(bills)


def _review(run, customer_id, period, volume, amount, average, reason, now) -> BillReview:
    return BillReview(
        customer_id=customer_id,
        period=period.key,
        run=run,
        volume=volume,
        amount=amount,
        average_volume=Decimal(average).quantize(Decimal("0.001")),
        reason=reason,
        created_at=now,
    )


def _count(run, bills: int, parked: int, hi: int) -> None:
    if run is None:
        return
    BillingRun.objects.filter(pk=run.pk).update(
        bills_created=F("bills_created") + bills,
        parked=F("parked") + parked,
        chunks_done=F("chunks_done") + 1,
        last_customer_id=Greatest(F("last_customer_id"), hi),  # progress only: plan() re-finds gaps
    )


def _lock_accounts(customer_ids: list[int]) -> dict[int, tuple]:
    """{customer_id: (account pk, balance, prepaid)} of the existing accounts among
    ``customer_ids``, rows locked in pk order (a concurrent payment waits, or we wait for it
    and read its balance). The ledger's lock as plain tuples, and without creating accounts:
    a run creates the missing ones with their first balance (_settle_accounts)."""
    rows = (
        Account.objects.select_for_update()
        .filter(customer_id__gte=min(customer_ids), customer_id__lte=max(customer_ids))
        .filter(customer_id__any=customer_ids)
        .order_by("pk")
        .values_list("customer_id", "pk", "balance", "prepaid")
    )
    return {cid: (pk, balance, prepaid) for cid, pk, balance, prepaid in rows}


def _settle_accounts(bills: list[tuple], accounts: dict, now) -> dict[int, tuple]:
    """{customer id: (account pk, balance before, balance after, account existed)} for the
    bills. A first bill creates its account here, with the balance after the charge already
    (the same transaction writes the charge), instead of creating it at 0 and updating it."""
    settled: dict[int, tuple] = {}
    missing: list[tuple] = []
    for bill in bills:
        cid, total = bill[0], bill[5]
        found = accounts.get(cid)
        if found is None:
            missing.append((cid, -total))
        else:
            settled[cid] = (found[0], found[1], found[1] - total, True)
    if missing:
        created = _create_accounts(missing, now)
        late = [cid for cid, _after in missing if cid not in created]
        if late:  # created by someone else meanwhile: lock and charge it like any other
            accounts.update(_lock_accounts(late))
        for cid, after in missing:
            if cid in created:
                settled[cid] = (created[cid], MONEY0, after, False)
            else:
                pk, balance, _prepaid = accounts[cid]
                settled[cid] = (pk, balance, balance + after, True)
    return settled


def _create_accounts(rows: list[tuple], now) -> dict[int, int]:
    """Insert accounts (customer id, balance); {customer id: pk} of those inserted."""
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {Account._meta.db_table} (customer_id, balance, prepaid, credit_limit,"  # noqa: S608
            " low_balance_alert, updated_at) SELECT c, b, false, 0, %s, %s"
            " FROM unnest(%s::bigint[], %s::numeric[]) AS v(c, b)"
            " ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id, id"
        )
        default_alert = Account._meta.get_field("low_balance_alert").default
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [default_alert, now, array_literal(r[0] for r in rows), array_literal(r[1] for r in rows)],
            )
            return dict(cursor.fetchall())
    Account.objects.bulk_create([Account(customer_id=cid, balance=balance) for cid, balance in rows])
    return dict(Account.objects.filter(customer_id__in=[r[0] for r in rows]).values_list("customer_id", "pk"))


BILL_COLUMNS = (
    "id",
    "customer_id",
    "volume",
    "total",
    "minimum_top_up",
    "meter_rent",
    "previous_balance",
    "reading_from",
    "reading_to",
    "tariff_id",
    "period",
    "period_start",
    "period_end",
    "status",
    "run_id",
    "issued_on",
    "due_on",
    "created_at",
)
LINE_COLUMNS = ("bill_id", "tier", "volume", "unit_price", "amount", "effective_from", "tariff_year")
ENTRY_COLUMNS = (
    "account_id",
    "kind",
    "amount",
    "balance_after",
    "reference",
    "idempotency_key",
    "created_at",
)


def _insert_bills(bills, settled, period, run_id, today, due_on, now) -> list[int]:
    """Write the bills; returns their ids in order."""
    if not bills:
        return []
    if connection.vendor != "postgresql":
        objects = [
            Bill(
                customer_id=cid,
                period=period.key,
                period_start=period.start,
                period_end=period.end,
                volume=volume,
                total=total,
                minimum_top_up=priced.minimum_top_up,
                meter_rent=priced.meter_rent,
                previous_balance=settled[cid][1],
                reading_from=rfrom,
                reading_to=rto,
                tariff_id=tariff_id,
                run_id=run_id,
                issued_on=today,
                due_on=due_on,
                created_at=now,
            )
            for cid, volume, rfrom, rto, priced, total, tariff_id, _lines in bills
        ]
        Bill.objects.bulk_create(objects, batch_size=500)
        return [bill.pk for bill in objects]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Bill._meta.db_table, len(bills)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    # The columns that are the same for every bill of the chunk, formatted once.
    tail = "\t".join(
        copy_text(v)
        for v in (period.key, period.start, period.end, BillStatus.ISSUED.value, run_id, today, due_on, now)
    )
    lines = [
        f"{pk}\t{cid}\t{volume!s}\t{total!s}\t{priced.minimum_top_up!s}\t{priced.meter_rent!s}"
        f"\t{settled[cid][1]!s}\t{copy_text(rfrom)}\t{copy_text(rto)}\t{tariff_id}\t{tail}\n"
        for pk, (cid, volume, rfrom, rto, priced, total, tariff_id, _lines) in zip(ids, bills, strict=True)
    ]
    _copy(Bill, BILL_COLUMNS, lines)
    return ids


def _insert_lines(bills: list[tuple], bill_ids: list[int]) -> None:
    if connection.vendor != "postgresql":
        rows = [(pk, *line) for pk, bill in zip(bill_ids, bills, strict=True) for line in bill[7]]
        BillLine.objects.bulk_create(
            [BillLine(**dict(zip(LINE_COLUMNS, row, strict=True))) for row in rows], batch_size=500
        )
        return
    texts: dict[int, list[str]] = {}  # a priced bill's line columns, formatted once per chunk
    out = []
    for pk, bill in zip(bill_ids, bills, strict=True):
        lines = bill[7]
        formatted = texts.get(id(lines))
        if formatted is None:
            formatted = texts[id(lines)] = [
                "\t" + "\t".join(copy_text(v) for v in line) + "\n" for line in lines
            ]
        prefix = str(pk)
        out.extend(prefix + text for text in formatted)
    _copy(BillLine, LINE_COLUMNS, out)


def _post_charges(bills: list[tuple], bill_ids: list[int], settled: dict, now, period: Period) -> None:
    """The ledger entries of the bills, in bulk, with the same idempotency key ledger.post
    would use (bill:<id>) and balance_after continuing each account's chain."""
    reference = _("Gas bill %(period)s") % {"period": period.key}
    kind = EntryKind.CHARGE.value
    rows = []
    for pk, bill in zip(bill_ids, bills, strict=True):
        total = bill[5]
        if total == 0:
            continue
        account_pk, _before, after, _existed = settled[bill[0]]
        rows.append((account_pk, -total, after, pk))
    if connection.vendor != "postgresql":
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    account_id=account_pk,
                    kind=kind,
                    amount=amount,
                    balance_after=after,
                    reference=reference[:120],
                    idempotency_key=f"bill:{pk}",
                    created_at=now,
                )
                for account_pk, amount, after, pk in rows
            ],
            batch_size=500,
        )
        return
    head = f"\t{kind}\t"
    middle = f"\t{copy_text(reference[:120])}\tbill:"
    tail = f"\t{copy_text(now)}\n"
    _copy(
        LedgerEntry,
        ENTRY_COLUMNS,
        [
            f"{account_pk}{head}{amount!s}\t{after!s}{middle}{pk}{tail}"
            for account_pk, amount, after, pk in rows
        ],
    )


def _copy(model, columns, lines: list[str]) -> None:
    """COPY pre-formatted text rows into the model's table (PostgreSQL)."""
    if not lines:
        return
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy,
    ):
        for start in range(0, len(lines), 2000):
            copy.write("".join(lines[start : start + 2000]))


def _write_balances(balances: dict[int, Decimal]) -> None:
    if not balances:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Account._meta.db_table} AS a SET"  # noqa: S608 - table name from the model
                " balance = v.balance, updated_at = %s "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id",
                [timezone.now(), array_literal(balances), array_literal(balances.values())],
            )
        return
    rows = [Account(pk=pk, balance=balance, updated_at=timezone.now()) for pk, balance in balances.items()]
    Account.objects.bulk_update(rows, ["balance", "updated_at"], batch_size=500)


def bill_after_review(review: BillReview, by=None) -> Bill:
    """A person looked at a parked account and says bill it as read."""
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    bill_chunk(None, review.customer_id, review.customer_id, period_key=review.period, force=True)
    BillReview.objects.filter(pk=review.pk).update(decided_by=by)
    bill = Bill.objects.filter(customer_id=review.customer_id, period=review.period).first()
    if bill is None:
        raise DomainError("not_billable", _("This account has nothing billable in the period."))
    return bill


def dismiss_review(review: BillReview, by=None) -> None:
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    BillReview.objects.filter(pk=review.pk).update(status=ReviewStatus.DISMISSED, decided_by=by)
