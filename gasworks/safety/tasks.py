"""Background work of the safety app. With REDIS_URL set, Celery beat plans inspections daily;
without it, run `python manage.py plan_inspections` from cron."""

from celery import shared_task
from celery.schedules import crontab

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
