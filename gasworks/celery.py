"""Celery runs background work only when REDIS_URL is set; otherwise tasks run in-process.

Periodic work: each module in SCHEDULE_MODULES defines BEAT_SCHEDULE, and beat_schedule()
joins them with settings.CELERY_BEAT_SCHEDULE into the one schedule beat runs (installed at
start-up by gasworks.top when a broker is configured; without one, cron runs the same work
through the management commands each entry names in its module)."""

import os
from importlib import import_module

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")

app = Celery("gasworks")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SCHEDULE_MODULES = [
    "gasworks.billing.tasks",
    "gasworks.safety.tasks",
    "gasworks.reports.tasks",
    "gasworks.reports.background",
    "gasworks.service.collections.tasks",
    "gasworks.service.arrangements.tasks",
    "gasworks.system.tasks",
]


def beat_schedule() -> dict:
    """Every periodic task of Gasworks: settings' entries and each module's BEAT_SCHEDULE. Two
    entries of one name would silently replace each other, so that is refused."""
    from django.conf import settings

    schedule = dict(settings.CELERY_BEAT_SCHEDULE)
    for name in SCHEDULE_MODULES:
        entries = import_module(name).BEAT_SCHEDULE
        clash = schedule.keys() & entries.keys()
        if clash:
            raise ValueError(f"beat entries named twice: {sorted(clash)}")
        schedule.update(entries)
    return schedule


def install_schedule(target=app) -> None:
    """With a broker, beat runs the whole schedule; without one there is no beat."""
    from django.conf import settings

    if settings.REDIS_URL:
        target.conf.beat_schedule = beat_schedule()
