"""A Celery worker for benchmarks/bench_scale.py: the project's worker (prefork, N processes)
with the bill notices and the reports' refresh after a run taken off, so that the run is what
is timed. `python benchmarks/celery_bench_worker.py N` (environment from bench_scale.py)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")

import django

django.setup()

from gasworks import subscriptions  # noqa: E402
from gasworks.billing.events import BillingRunFinished, BillsIssued  # noqa: E402
from gasworks.celery import app  # noqa: E402
from gasworks.lib import events  # noqa: E402
from gasworks.notifications import handlers  # noqa: E402

events.unsubscribe(BillsIssued, handlers.bills_issued)
events.unsubscribe(BillingRunFinished, subscriptions.refresh_sales_after_run)
app.worker_main(
    ["worker", "-n", f"bench{os.getpid()}@scale", "-c", sys.argv[1], "-P", "prefork", "-Q", os.environ["CELERY_QUEUE"],
     "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
)  # fmt: skip
