"""Celery tasks (with REDIS_URL set): sending after each commit that queued messages, and a beat
entry that sends what waited (quiet hours, backoff) and reminds of supply interruptions."""

from celery import shared_task

from gasworks.notifications import interruptions, sender


@shared_task(acks_late=True)
def send_notifications(limit: int = 500) -> dict:
    # Idempotent: a message is claimed before it is sent and settled once; a task redelivered
    # after a worker died finds nothing left to claim (recover() settles a claim it left).
    counts = sender.send_due(limit=limit)
    return counts


@shared_task(acks_late=True)
def remind_supply_interruptions() -> int:
    return interruptions.remind_due()


@shared_task(acks_late=True)
def tell_supply_restored() -> int:
    return interruptions.restored_due()
