"""A real Celery worker for tests/billing/test_runs_celery.py, run as its own process:
`python -m tests.billing.celery_worker NAME`. It is the project's worker (the gasworks Celery
app, prefork pool) with one change for the test: the first chunk any worker reaches the ledger
in stops there (inside its transaction, bills written, nothing committed), after writing its
worker's name to STALL_MARK, so that the test can kill that worker mid-chunk."""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
django.setup()

from gasworks.billing import runs  # noqa: E402
from gasworks.celery import app  # noqa: E402

NAME = sys.argv[1]


def stage(name: str) -> None:
    if name != "ledger":
        return
    try:
        fd = os.open(os.environ["STALL_MARK"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # another chunk already stopped: this one goes on
    os.write(fd, NAME.encode())
    os.close(fd)
    time.sleep(600)  # until killed


runs.stage = stage  # inherited by the pool's forked processes
app.worker_main(
    ["worker", "-n", f"{NAME}@test", "-c", "1", "-P", "prefork", "-Q", os.environ["CELERY_QUEUE"],
     "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
)  # fmt: skip
