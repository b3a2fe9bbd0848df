"""Background work of the reports app: refreshing the rollups. With REDIS_URL set, Celery beat
refreshes every rollup nightly and a finished billing run's refresh runs on a worker; without
it, run `python manage.py refresh_reports` from cron (the run's refresh then runs in-process)."""

from celery import shared_task
from celery.schedules import crontab

from gasworks.reports import rollups

BEAT_SCHEDULE = {
    "reports-refresh-rollups": {
        "task": "gasworks.reports.tasks.refresh_rollups",
        # After midnight's late fees and before the working day; a run takes minutes.
        "schedule": crontab(hour=1, minute=30),
    },
}


@shared_task(name="gasworks.reports.tasks.refresh_rollups")
def refresh_rollups(names: list[str] | None = None, full: bool = False) -> dict[str, int]:
    """Rebuild what changed since the last refresh (idempotent: a repeat rebuilds the same keys
    from the same rows)."""
    return rollups.refresh(names, full=full)
