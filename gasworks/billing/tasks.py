"""Celery tasks: with REDIS_URL set, each chunk of a billing run is one task."""

from celery import shared_task
from celery.schedules import crontab

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


@shared_task(name="gasworks.billing.tasks.daily_arrears")
def daily_arrears() -> dict:
    """Late fees for the day, then the arrears snapshot (the page, the report and the
    collections ladder read it). Both are idempotent: a rerun charges nothing twice."""
    from gasworks.billing import arrears

    posted = arrears.apply_late_fees()
    return {"late_fees": posted, **arrears.refresh()}


BEAT_SCHEDULE = {
    "billing-daily-arrears": {
        "task": "gasworks.billing.tasks.daily_arrears",
        "schedule": crontab(hour=0, minute=20),
    }
}


def _install_on_import() -> None:
    """With a broker, beat runs the daily arrears job; without one, cron runs
    `manage.py apply_late_fees` (which refreshes the snapshot too)."""
    from django.conf import settings

    from gasworks.celery import app

    if settings.REDIS_URL:
        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


_install_on_import()
