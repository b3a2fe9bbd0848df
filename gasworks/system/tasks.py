"""Background work of the system app: the monthly partitions of the history tables, kept daily
(idempotent; a day's run creates nothing new most days). Without Redis, cron runs
`python manage.py partitions`."""

from celery import shared_task
from celery.schedules import crontab
from django.utils import timezone

from gasworks.lib import partitions
from gasworks.system import parameters

BEAT_SCHEDULE = {
    "system-partitions": {
        "task": "gasworks.system.tasks.keep_partitions",
        "schedule": crontab(hour=3, minute=40),
    },
}


@shared_task(name="gasworks.system.tasks.keep_partitions")
def keep_partitions(ahead: int = 3) -> dict:
    done = partitions.maintain(
        ahead=ahead, detach_older_than=parameters.get("partitions_keep_months"), today=timezone.localdate()
    )
    return {u.table: {"created": u.created, "detached": u.detached_now} for u in done}
