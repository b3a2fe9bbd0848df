"""A billing run on two real Celery workers (processes, the machine's Redis, PostgreSQL): one
is killed with SIGKILL in the middle of a chunk, and the run still ends with exactly one bill
per account, every chunk done once and the ledger whole."""

import pytest

from gasworks.billing import runs
from gasworks.billing.models import Bill, BillingRun, LedgerEntry, RunChunk, RunStatus
from gasworks.billing.verify import verify_ledger
from tests.billing.test_runs_parallel import _accounts
from tests.celery_harness import wait_for

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_chunk_leaves_its_chunk_to_the_other(celery_workers, monkeypatch):
    monkeypatch.setattr(runs, "CHUNK_SPAN", 3)
    customers = _accounts(15)  # five chunks
    celery_workers.start("one", stall="billing-ledger"), celery_workers.start("two", stall="billing-ledger")

    run = runs.execute(runs.start_run("2026-10"))
    assert run.chunks_total == 5
    # A worker is inside a chunk's transaction (bills written, not committed): kill it whole.
    victim = celery_workers.stalled()
    celery_workers.kill(victim)
    # The survivor finishes the other four; the fifth is unacknowledged in Redis for an hour.
    wait_for(lambda: RunChunk.objects.filter(run=run).exclude(done_at=None).count() == 4, 120, "four chunks")
    lost = RunChunk.objects.get(run=run, done_at=None)
    assert lost.taken_by.startswith(victim) and lost.attempts == 1
    # A second without progress: the chunk is sent again (beat does this every minute).
    assert wait_for(lambda: runs.resume_stalled(stall_seconds=1), 30, "a stall") == {run.pk: 1}

    wait_for(lambda: BillingRun.objects.get(pk=run.pk).status == RunStatus.DONE, 120, "the run to finish")
    run.refresh_from_db()
    assert (run.bills_created, run.chunks_done, run.chunks_total) == (15, 5, 5)
    assert sorted(Bill.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    assert LedgerEntry.objects.count() == 15
    assert verify_ledger()[1] == []
    lost.refresh_from_db()
    assert lost.done_at is not None and lost.attempts == 2


def test_a_chunk_delivered_twice_bills_and_counts_once(monkeypatch):
    monkeypatch.setattr(runs, "CHUNK_SPAN", 3)
    _accounts(6)
    run = runs.start_run("2026-10")
    (lo, hi), second = runs.plan(run)
    assert runs.bill_chunk(run.pk, lo, hi) == 3
    assert runs.bill_chunk(run.pk, lo, hi) == 0  # the redelivery
    run.refresh_from_db()
    assert (run.bills_created, run.chunks_done) == (3, 1)
    assert runs.resume_stalled(stall_seconds=1) == {}  # never sent to Celery: not resumed
    runs.bill_chunk(run.pk, *second)
    runs.finish(run.pk)
    run.refresh_from_db()
    assert (run.status, run.bills_created, run.chunks_done) == (RunStatus.DONE, 6, 2)
