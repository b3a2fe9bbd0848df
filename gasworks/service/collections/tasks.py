"""Celery: the daily collections run, after billing's daily arrears job (late fees at 00:20)."""

from celery import shared_task
from celery.schedules import crontab


@shared_task(name="gasworks.service.collections.tasks.daily_collections", acks_late=True)
def daily_collections() -> dict:
    """Idempotent: a worker killed mid-run loses nothing (each chunk committed) and a rerun takes
    nothing twice (one live step per account and kind)."""
    from gasworks.service.collections import services

    return services.run()


BEAT_SCHEDULE = {
    "collections-daily-run": {
        "task": "gasworks.service.collections.tasks.daily_collections",
        "schedule": crontab(hour=8, minute=30),
    }
}
