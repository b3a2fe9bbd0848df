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


def install() -> None:
    """With a broker, beat runs the ladder each morning (its notices are not sent at night);
    without one, cron runs `manage.py collections_run`."""
    from django.conf import settings

    from gasworks.celery import app

    if settings.REDIS_URL:
        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}
