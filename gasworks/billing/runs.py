"""Billing runs: one bill per active account with billable readings in a period.

A run is cut into chunks of CHUNK_SPAN accounts (customer-id ranges). Each chunk is one
transaction: one set-based read (readings, history and prior use aggregated per customer in
SQL), pricing over plain tuples with a per-chunk cache (accounts sharing a tariff, household
factor, volume and prior use share one price), and bulk writes (COPY) of bills and lines
(billing/store.py, which also holds the read) and of the ledger entries and cached balances
(ledger.SetPosting: the ledger stays the one writer of money, with post()'s validation and
account lock). Billable volume is gasworks.metering.billable's definition. A crash rolls back only the chunk in flight; a rerun of the
period plans only accounts that have no bill or review yet (and the unique constraint on
customer + period stops a duplicate even from a concurrent process), so it continues where it
stopped. Chunks may run in several processes (or Celery workers). Accounts whose bill looks
implausible are parked for review.

Each planned chunk is a row (RunChunk) that its transaction locks first and marks done last:
a chunk delivered twice (Celery redelivers a task whose worker died; resume_stalled sends the
chunks of a run that stopped moving) bills once and counts once. `billing_run --workers N` is
the local mode of the same chunks: forked processes instead of Celery workers.
"""

import multiprocessing
import os
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.billing import held_back, ledger, store
from gasworks.billing.events import BillingRunFinished, BillsIssued
from gasworks.billing.models import (
    RUN_TRANSITIONS,
    Bill,
    BillingRun,
    BillReview,
    EntryKind,
    ReviewStatus,
    RunChunk,
    RunStatus,
)
from gasworks.billing.periods import parse_period
from gasworks.billing.tariffs import Pricer, load_specs
from gasworks.errors import DomainError
from gasworks.lib import events
from gasworks.lib.tiers import TariffError
from gasworks.system import audit, parameters

CHUNK_SPAN = 10000  # accounts per chunk (one transaction)
ZERO = Decimal("0")
MONEY0 = Decimal("0.00")


def stage(name: str) -> None:
    """A named point inside a chunk's transaction; tests make it raise to simulate a crash."""


def set_status(run: BillingRun, to: str, **fields) -> None:
    """Move a run along its transition table (an illegal move raises), saving ``fields`` too."""
    current = BillingRun.objects.values_list("status", flat=True).get(pk=run.pk)
    RUN_TRANSITIONS.check(current, to)
    run.status = to
    for key, value in fields.items():
        setattr(run, key, value)
    BillingRun.objects.filter(pk=run.pk).update(status=to, **fields)
    audit.record("update", run, {"status": current}, audit.plain({"status": to, **fields}))


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


def plan(run: BillingRun) -> list[tuple[int, int]]:
    """Chunks still to do, as customer-id ranges of CHUNK_SPAN accounts each, and mark the run
    running. Only customers with no bill and no review for the period count (an anti-join on
    their unique indexes), so a rerun of a finished period plans nothing instead of re-reading
    every account, and a resumed run continues exactly where bills are missing, whatever order
    its chunks finished in (parallel workers, Celery)."""
    period = parse_period(run.period)
    same = {"customer_id": OuterRef("customer_id"), "period": period.key}
    todo = (
        store.candidates(period)
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
    if lo is not None and last is not None:  # (lo set means a last was read)
        chunks.append((lo, last))
    with transaction.atomic():
        # This plan replaces the last one's unfinished chunks: a late delivery of one of those
        # finds no row and does nothing (its accounts are in this plan). A chunk being billed
        # right now holds its row: the delete waits, then keeps it, done.
        RunChunk.objects.filter(run=run, done_at__isnull=True).delete()
        RunChunk.objects.bulk_create([RunChunk(run=run, lo=lo, hi=hi) for lo, hi in chunks])
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
        if not chunks:
            finish(run.pk)
        enqueue(run.pk, chunks)
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


def enqueue(run_id: int, chunks) -> None:
    """Hand the chunks to the Celery workers (acks_late: a chunk whose worker dies is delivered
    again, and resume_stalled sends it again if the broker does not)."""
    from gasworks.billing import tasks

    RunChunk.objects.filter(run_id=run_id, done_at__isnull=True).update(queued_at=timezone.now())
    for lo, hi in chunks:
        tasks.bill_chunk_task.delay(run_id, lo, hi)


def resume_stalled(stall_seconds: int | None = None, now=None) -> dict[int, int]:
    """Send again the unfinished chunks of every running run that made no progress for
    ``stall_seconds`` (parameter billing_chunk_stall_seconds): a worker killed mid-chunk
    leaves its chunk unacknowledged in Redis until the broker's visibility timeout (an hour by
    default), and the run would hang until then. Sending a chunk twice is harmless: the chunk
    row makes the second delivery a no-op. Returns {run id: chunks sent}. Celery only: an
    in-process run has no one else to hand its chunks to."""
    stall = timedelta(seconds=stall_seconds or int(parameters.get("billing_chunk_stall_seconds")))
    now = now or timezone.now()
    sent: dict[int, int] = {}
    for run_id in BillingRun.objects.filter(status=RunStatus.RUNNING).values_list("pk", flat=True):
        chunks = list(RunChunk.objects.filter(run_id=run_id))
        left = sorted((c for c in chunks if c.done_at is None), key=lambda c: c.lo)
        # The run's last sign of life: a chunk finished, taken or sent. None: never sent to
        # Celery (an in-process run), which is not ours to resume.
        moments = [m for c in chunks for m in (c.done_at, c.started_at, c.queued_at) if m is not None]
        if not left or not moments or now - max(moments) < stall:
            continue
        enqueue(run_id, [(c.lo, c.hi) for c in left])
        sent[run_id] = len(left)
    return sent


def start_chunk(run_id: int, lo: int, hi: int, worker: str = "") -> None:
    """Note (committed at once) that a worker took the chunk: the run page and
    resume_stalled can then tell a queued chunk from one in flight."""
    RunChunk.objects.filter(run_id=run_id, lo=lo, hi=hi, done_at=None).update(
        started_at=timezone.now(), taken_by=worker[:120], attempts=F("attempts") + 1
    )


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
        start_chunk(run_id, lo, hi, f"local-{os.getpid()}")
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
            events.publish(BillingRunFinished(run.pk, run.period))


def bill_chunk(
    run_id: int | None, lo: int, hi: int, period_key: str | None = None, force: bool = False, at=None
) -> int:
    """Bill every unbilled candidate with lo <= customer id <= hi; returns bills written.
    ``force`` skips the plausibility check (a person approved the bill). ``at``: when the bills
    are issued (default now; generated history bills past months as of their issue day)."""
    run = BillingRun.objects.get(pk=run_id) if run_id else None
    period = parse_period(run.period if run else period_key)
    now = at or timezone.now()
    today = timezone.localdate(now)
    due_on = today + timedelta(days=int(parameters.get("bill_due_days")))
    review_factor = Decimal(parameters.get("bill_review_factor"))
    review_min_bills = int(parameters.get("bill_review_min_bills"))
    pricer = Pricer(load_specs(), period.start, period.end)
    with transaction.atomic():
        chunk = _take_chunk(run, lo, hi)
        if run is not None and chunk is None:
            return 0  # billed by an earlier delivery, or planned again since
        candidates = store.read_chunk(period, lo, hi, force)
        if not candidates:
            _count(run, 0, 0, hi, chunk)
            return 0
        charges = ledger.SetPosting(
            EntryKind.CHARGE, _("Gas bill %(period)s") % {"period": period.key}, at=now
        )
        accounts = charges.lock([row[0] for row in candidates])
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
        before = charges.settle({bill[0]: -bill[5] for bill in bills})
        bill_ids = store.insert_bills(bills, before, period, run_id, today, due_on, now)
        stage("bills")
        store.insert_lines(bills, bill_ids)
        stage("lines")
        # The same idempotency key ledger.post would be given for the bill (bill:<id>).
        charges.post("bill:", {bill[0]: pk for pk, bill in zip(bill_ids, bills, strict=True)})
        stage("ledger")
        if reviews:
            BillReview.objects.filter(
                period=period.key, customer_id__in=[r.customer_id for r in reviews], status=ReviewStatus.OPEN
            ).delete()
            BillReview.objects.bulk_create(reviews, ignore_conflicts=True)
        if force and bills:
            BillReview.objects.filter(
                period=period.key, customer_id__in=[b[0] for b in bills], status=ReviewStatus.OPEN
            ).update(status=ReviewStatus.BILLED)
        _count(run, len(bills), len(reviews), hi, chunk)
        if bill_ids:
            events.publish(BillsIssued(period.key, tuple(bill_ids), run_id))
        stage("chunk_done")
        prepaid_ids = [cid for cid, held in accounts.items() if held.prepaid]
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


def _take_chunk(run, lo: int, hi: int) -> RunChunk | None:
    """The run's chunk lo..hi, locked for this transaction, or None when it is done already
    or no longer planned. A second delivery of the chunk waits here for the first to commit."""
    if run is None:
        return None
    return (
        RunChunk.objects.select_for_update()
        .filter(run=run, lo=lo, hi=hi, done_at=None)
        .order_by("-pk")
        .first()
    )


def _count(run, bills: int, parked: int, hi: int, chunk: RunChunk | None) -> None:
    if run is None:
        return
    if chunk is not None:
        RunChunk.objects.filter(pk=chunk.pk).update(done_at=timezone.now())
    BillingRun.objects.filter(pk=run.pk).update(
        bills_created=F("bills_created") + bills,
        parked=F("parked") + parked,
        chunks_done=F("chunks_done") + 1,
        last_customer_id=Greatest(F("last_customer_id"), hi),  # progress only: plan() re-finds gaps
    )


def bill_after_review(review: BillReview, by=None) -> Bill:
    """A person looked at a parked account and says bill it as read."""
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    bill_chunk(None, review.customer_id, review.customer_id, period_key=review.period, force=True)
    BillReview.objects.filter(pk=review.pk).update(decided_by=by)
    after = {"status": ReviewStatus.BILLED, "decided_by": getattr(by, "pk", None)}
    audit.record("approve", review, {"status": review.status}, after, note="billed as read", actor=by)
    bill = Bill.objects.filter(customer_id=review.customer_id, period=review.period).first()
    if bill is None:
        raise DomainError("not_billable", _("This account has nothing billable in the period."))
    return bill


def dismiss_review(review: BillReview, by=None) -> None:
    if review.status != ReviewStatus.OPEN:
        raise DomainError("review_closed", _("This review is already decided."))
    with transaction.atomic():
        BillReview.objects.filter(pk=review.pk).update(status=ReviewStatus.DISMISSED, decided_by=by)
        after = {"status": ReviewStatus.DISMISSED, "decided_by": getattr(by, "pk", None)}
        audit.record("dismiss", review, {"status": review.status}, after, actor=by)
