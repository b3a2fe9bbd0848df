"""A real Celery worker for the kill tests (tests/celery_harness.py), run as its own process:
`python -m tests.celery_worker NAME`. It is the project's worker (the gasworks Celery app,
prefork pool) with one change, chosen by the STALL variable: the first worker to reach that
point writes its name to STALL_MARK and stops there until killed. Only one worker stops in all
(the mark is created exclusively): the others go on past the point."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
django.setup()

from gasworks.billing import runs  # noqa: E402
from gasworks.celery import app  # noqa: E402
from gasworks.notifications import sender  # noqa: E402
from gasworks.reports import export  # noqa: E402
from gasworks.safety.services import inspections  # noqa: E402
from gasworks.service.collections import services as collections  # noqa: E402
from gasworks.service.collections import store as collections_store  # noqa: E402

NAME = sys.argv[1]


def stop_here() -> None:
    """Stop (until killed) if no worker has stopped yet; else return at once."""
    try:
        fd = os.open(os.environ["STALL_MARK"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, NAME.encode())
    os.close(fd)
    with open(os.environ["STALL_MARK"] + ".pid", "w") as pid:
        pid.write(str(os.getpid()))  # the pool process stopped here
    time.sleep(600)


def billing_ledger() -> None:
    """Inside a billing chunk's transaction, its bills written, nothing committed."""

    def stage(name: str) -> None:
        if name == "ledger":
            stop_here()

    runs.stage = stage


def export_write() -> None:
    """In the middle of a CSV export's file: its first lines written to the partial file."""
    lines = export.csv_lines

    def stalling(*args, **kwargs):
        for number, line in enumerate(lines(*args, **kwargs)):
            if number == 3:
                stop_here()
            yield line

    export.csv_lines = stalling


def nth_call(module, name: str, n: int, after: bool) -> None:
    """Stop at the n-th call (in this process) of module.name, before it or after it returns."""
    original, calls = getattr(module, name), [0]

    def stalling(*args, **kwargs):
        calls[0] += 1
        if calls[0] == n and not after:
            stop_here()
        result = original(*args, **kwargs)
        if calls[0] == n and after:
            stop_here()
        return result

    setattr(module, name, stalling)


def collections_chunk() -> None:
    """Inside the second chunk's transaction of the daily collections run: the first chunk's
    steps (and notices) committed, the second's written and not committed."""
    collections.CHUNK = int(os.environ.get("CHUNK", collections.CHUNK))
    nth_call(collections_store, "take_steps", 2, after=True)


def notify_settle() -> None:
    """After the provider answered a sending round and before its outcomes are recorded."""
    nth_call(sender, "settle_many", 1, after=False)


def plan_batch() -> None:
    """Between the inspection planner's batches: the first committed, the second not written."""
    inspections.PLAN_BATCH = int(os.environ.get("CHUNK", inspections.PLAN_BATCH))
    nth_call(inspections, "_insert_batch", 2, after=False)


STALLS = {
    "billing-ledger": billing_ledger,
    "export-write": export_write,
    "collections-chunk": collections_chunk,
    "notify-settle": notify_settle,
    "plan-batch": plan_batch,
}

if os.environ.get("STALL"):
    STALLS[os.environ["STALL"]]()  # inherited by the pool's forked processes
app.worker_main(
    ["worker", "-n", f"{NAME}@test", "-c", "1", "-P", "prefork", "-Q", os.environ["CELERY_QUEUE"],
     "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
)  # fmt: skip
