"""Celery tasks: with REDIS_URL set, each chunk of a billing run is one task."""

from celery import shared_task
from celery.schedules import crontab

from gasworks.billing import runs
from gasworks.billing.models import BillingRun, RunStatus


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def bill_chunk_task(self, run_id: int, lo: int, hi: int) -> int:
    """One chunk of a run. Acknowledged only when done (acks_late), handed back to the queue
    when the process running it dies (reject_on_worker_lost), and idempotent (runs.RunChunk):
    any number of deliveries bill the chunk once."""
    status = BillingRun.objects.values_list("status", flat=True).get(pk=run_id)
    if status != RunStatus.RUNNING:
        return 0  # cancelled or failed meanwhile
    runs.start_chunk(run_id, lo, hi, self.request.hostname or "")
    try:
        written = runs.bill_chunk(run_id, lo, hi)
    except Exception as exc:
        run = BillingRun.objects.get(pk=run_id)
        runs.set_status(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    runs.finish(run_id)
    return written


@shared_task(name="gasworks.billing.tasks.daily_arrears")
def daily_arrears() -> dict:
    """Late fees for the day, then the arrears snapshot (the page, the report and the
    collections ladder read it). Both are idempotent: a rerun charges nothing twice."""
    from gasworks.billing import arrears

    posted = arrears.apply_late_fees()
    return {"late_fees": posted, **arrears.refresh()}


@shared_task(name="gasworks.billing.tasks.resume_stalled_runs")
def resume_stalled_runs() -> dict:
    """Chunks of running runs whose worker died are sent again (runs.resume_stalled)."""
    return {str(k): v for k, v in runs.resume_stalled().items()}


BEAT_SCHEDULE = {
    "billing-daily-arrears": {
        "task": "gasworks.billing.tasks.daily_arrears",
        "schedule": crontab(hour=0, minute=20),
    },
    "billing-resume-stalled-runs": {
        "task": "gasworks.billing.tasks.resume_stalled_runs",
        "schedule": 60.0,
    },
}
