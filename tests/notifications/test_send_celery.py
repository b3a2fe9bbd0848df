"""Sending on real Celery workers (processes, the machine's Redis, PostgreSQL, a local HTTP
stand-in of Aliyun's SMS API that counts deliveries per number): the worker sending a round is
killed with SIGKILL after the provider answered and before the outcomes were recorded; the next
delivery of the task (on the other worker) settles what that round sent by asking the provider,
and every message is delivered exactly once."""

import time

import pytest

from gasworks.notifications import outbox, tasks
from gasworks.notifications.models import Message
from gasworks.system.services import set_parameters
from tests.celery_harness import wait_for
from tests.factories import make_customer
from tests.notifications.stub_provider import Stub

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]
N = 12


@pytest.fixture
def stub(monkeypatch):
    stub = Stub().start()
    stub.env(monkeypatch, "aliyun")  # before the workers start: they read it at start-up
    yield stub
    stub.stop()


def test_a_sender_killed_mid_round_leaves_each_message_sent_once(celery_workers, stub):
    # A claim left `sending` is settled a second after it was made (ten minutes in production).
    set_parameters({"notify_claim_stale_seconds": "1"})
    for name in ("one", "two"):
        celery_workers.start(name, stall="notify-settle")
    customers = [make_customer() for _ in range(N)]
    # Written, then the commit sends the task that sends them (REDIS_URL is set).
    outbox.enqueue("low_balance", [(f"low:{c.pk}", c.pk, {"balance": "3.00"}) for c in customers])

    celery_workers.kill(celery_workers.stalled())
    sms = Message.objects.filter(channel="sms")
    assert len(stub.deliveries) == N and sms.filter(status="sending").count() == N  # sent, not recorded

    time.sleep(1.5)  # the round's claim is now older than notify_claim_stale_seconds
    tasks.send_notifications.delay()  # the next delivery (beat's, every minute)
    wait_for(lambda: not Message.objects.exclude(status="sent").exists(), 60, "every message settled")
    counts = stub.by_recipient()
    assert len(counts) == N and set(counts.values()) == {1}, counts  # none lost, none doubled
    assert sms.count() == N and set(Message.objects.values_list("status", flat=True)) == {"sent"}
