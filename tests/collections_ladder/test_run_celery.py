"""The daily collections run on real Celery workers (processes, the machine's Redis,
PostgreSQL): the worker running it is killed with SIGKILL inside its second chunk's transaction
(the first chunk's steps and notices committed, the second's written and not), the run is
delivered again, and the day ends with exactly one step and one notice per account in debt. Killed
whole (the machine lost), the test sends the task again as the next beat would (Redis would after
its visibility timeout); with only its pool process killed, the worker itself hands the task back
to the queue (acks_late, REJECT_ON_WORKER_LOST) and it runs again unasked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gasworks.notifications.models import Message
from gasworks.service.collections import tasks
from gasworks.service.collections.models import CollectionRun, CollectionStep
from tests.celery_harness import wait_for
from tests.collections_ladder.helpers import overdue_bill
from tests.factories import make_customer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("killed", ["worker", "pool process"])
def test_a_run_killed_mid_chunk_and_run_again_takes_each_step_once(celery_workers, killed):
    # Due 20 days ago: past the reminder's 15 days, short of the final notice's 30, today.
    due = timezone.localdate() - timedelta(days=20)
    customers = [make_customer() for _ in range(9)]
    for customer in customers:
        overdue_bill(customer, "120.00", due_on=due)
    for name in ("one", "two"):
        celery_workers.start(name, stall="collections-chunk", CHUNK="3")  # three chunks

    tasks.daily_collections.delay()
    victim = celery_workers.stalled()
    if killed == "worker":  # the machine lost: Redis keeps the task for its visibility timeout
        celery_workers.kill(victim)
        assert CollectionStep.objects.count() == 3  # the first chunk's; the second rolled back
        assert not CollectionRun.objects.exists()
        tasks.daily_collections.delay()  # delivered again (the next beat), to the worker left
    else:  # the pool process alone: its worker puts the task back at once, and it runs again
        celery_workers.kill_pool_process()
    wait_for(CollectionRun.objects.exists, 120, "the second run")
    steps = list(CollectionStep.objects.values_list("pk", "customer_id", "step", "status"))
    assert sorted(cid for _pk, cid, _s, _st in steps) == sorted(c.pk for c in customers)
    assert {(step, status) for _pk, _cid, step, status in steps} == {("reminder", "open")}
    assert CollectionRun.objects.get().reminders == 6  # the accounts the first run did not reach
    notices = Message.objects.filter(event="overdue_reminder")
    channels = set(notices.values_list("channel", flat=True))
    assert channels and Message.objects.count() == notices.count()
    for channel in channels:  # one notice per step on each channel the customers are told on
        keys = sorted(notices.filter(channel=channel).values_list("key", flat=True))
        assert keys == sorted(f"overdue_reminder:step:{pk}:{cid}:{channel}" for pk, cid, *_rest in steps)
