"""A billing run on two real Celery workers (processes, the machine's Redis, PostgreSQL): one
is killed with SIGKILL in the middle of a chunk, and the run still ends with exactly one bill
per account, every chunk done once and the ledger whole."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from gasworks.billing import runs
from gasworks.billing.models import Bill, BillingRun, LedgerEntry, RunChunk, RunStatus
from gasworks.billing.verify import verify_ledger
from gasworks.celery import app
from tests.billing.test_runs_parallel import _accounts
from tests.services import require_redis

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _new_connections() -> None:
    """Forget the broker connections made under the old settings (the next send opens new)."""
    app._pool = None
    app.amqp._producer_pool = None


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_on_redis(monkeypatch, tmp_path):
    """This process sends tasks to a queue of its own on the machine's Redis; returns a function
    that starts a worker process on that queue."""
    url = require_redis()
    queue = f"gasworks-test-{uuid.uuid4().hex[:10]}"
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    _new_connections()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": url,
        "CELERY_QUEUE": queue,
        "STALL_MARK": str(tmp_path / "stalled"),
        "PYTHONUNBUFFERED": "1",
    }
    workers: dict[str, subprocess.Popen] = {}

    def start(name: str) -> subprocess.Popen:
        workers[name] = subprocess.Popen(
            [sys.executable, "-m", "tests.billing.celery_worker", name],
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,  # its own process group: the pool's children die with it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return workers[name]

    with override_settings(REDIS_URL=url, CELERY_TASK_ALWAYS_EAGER=False):
        yield start, tmp_path / "stalled", workers
    for process in workers.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    app.conf.update(saved)
    _new_connections()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_chunk_leaves_its_chunk_to_the_other(celery_on_redis, monkeypatch):
    start, stalled, workers = celery_on_redis
    monkeypatch.setattr(runs, "CHUNK_SPAN", 3)
    customers = _accounts(15)  # five chunks
    start("one"), start("two")

    run = runs.execute(runs.start_run("2026-10"))
    assert run.chunks_total == 5
    # A worker is inside a chunk's transaction (bills written, not committed): kill it whole.
    victim = wait_for(lambda: stalled.exists() and stalled.read_text(), 120, "a worker to stop mid-chunk")
    os.killpg(workers[victim].pid, signal.SIGKILL)
    workers[victim].wait(10)
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
