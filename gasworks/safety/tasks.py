"""Background work of the safety app. With REDIS_URL set, Celery beat plans inspections daily;
without it, run `python manage.py plan_inspections` from cron."""

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from gasworks.safety.services.hazards import warn_deadlines_near, warn_deadlines_passed
from gasworks.safety.services.inspections import plan_due, remind_appointments

BEAT_SCHEDULE = {
    "safety-plan-inspections": {
        "task": "gasworks.safety.tasks.plan_inspections",
        "schedule": crontab(hour=2, minute=15),
    },
    "safety-deadlines-near": {
        "task": "gasworks.safety.tasks.deadlines_near",
        "schedule": crontab(hour=8, minute=0),
    },
    "safety-deadlines-passed": {
        "task": "gasworks.safety.tasks.deadlines_passed",
        "schedule": crontab(hour=8, minute=5),
    },
    # In the day, not the evening: the reminder is an SMS, which waits out the quiet hours.
    "safety-appointments-tomorrow": {
        "task": "gasworks.safety.tasks.appointments_tomorrow",
        "schedule": crontab(hour=10, minute=0),
    },
}


@shared_task(name="gasworks.safety.tasks.plan_inspections")
def plan_inspections() -> dict:
    result = plan_due()
    return {"created": result.created, "assigned": result.assigned, "skipped": result.skipped}


@shared_task(name="gasworks.safety.tasks.deadlines_near")
def deadlines_near() -> int:
    return warn_deadlines_near()


@shared_task(name="gasworks.safety.tasks.deadlines_passed")
def deadlines_passed() -> int:
    return warn_deadlines_passed()


@shared_task(name="gasworks.safety.tasks.appointments_tomorrow")
def appointments_tomorrow() -> int:
    return remind_appointments()


def install_schedule(app) -> None:
    """Add the safety entries to Celery beat when a broker is configured."""
    if settings.REDIS_URL:
        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


def _install_on_import() -> None:
    from gasworks.celery import app

    install_schedule(app)


# Celery imports this module (autodiscover) in the worker and in beat, before beat reads its schedule.
_install_on_import()
