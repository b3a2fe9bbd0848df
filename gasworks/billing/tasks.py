"""Celery tasks: with REDIS_URL set, each chunk of a billing run is one task."""

from celery import shared_task

from gasworks.billing import runs
from gasworks.billing.models import BillingRun, RunStatus


@shared_task(acks_late=True)
def bill_chunk_task(run_id: int, lo: int, hi: int) -> int:
    status = BillingRun.objects.values_list("status", flat=True).get(pk=run_id)
    if status != RunStatus.RUNNING:
        return 0  # cancelled or failed meanwhile
    try:
        written = runs.bill_chunk(run_id, lo, hi)
    except Exception as exc:
        run = BillingRun.objects.get(pk=run_id)
        runs.set_status(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    runs.finish(run_id)
    return written
