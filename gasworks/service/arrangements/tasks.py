"""Celery: the daily run of payment arrangements (beat with REDIS_URL; cron runs
`manage.py run_arrangements` without one). Before the late fees (00:20), so an arrangement
ended today is charged from today's run."""

from celery import shared_task
from celery.schedules import crontab


@shared_task(name="gasworks.service.arrangements.tasks.daily_arrangements", acks_late=True)
def daily_arrangements() -> dict:
    """Idempotent: a rerun of the day reminds nobody twice and ends nothing twice."""
    from gasworks.service.arrangements import daily

    return daily.run()


BEAT_SCHEDULE = {
    "service-daily-arrangements": {
        "task": "gasworks.service.arrangements.tasks.daily_arrangements",
        "schedule": crontab(hour=0, minute=5),
    }
}
