"""Exactly once across a crash: a real `manage.py send_notifications --loop` on PostgreSQL is
killed with SIGKILL right after a provider answered a batch and before its outcome was committed,
then started again. Against a local HTTP stand-in of the provider that counts deliveries per
number, every message is delivered once: none lost, none doubled."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gasworks.notifications import outbox
from gasworks.notifications.models import Message
from gasworks.system.models import Parameter
from tests.factories import make_customer
from tests.notifications.stub_provider import Stub
from tests.services import database_url

ROOT = Path(__file__).resolve().parents[2]
N = 60


def _sender(env: dict) -> subprocess.Popen:
    command = [
        sys.executable,
        "manage.py",
        "send_notifications",
        "--loop",
        "--interval",
        "0.2",
        "--batch",
        "20",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_sender_killed_mid_batch_and_restarted_sends_each_message_once(monkeypatch, provider):
    stub = Stub(delay=0.02).start()
    stub.env(monkeypatch, provider)
    # A claim left `sending` is settled a second after it was made (ten minutes in production).
    Parameter.objects.create(key="notify_claim_stale_seconds", value="1")
    customers = [make_customer() for _ in range(N)]
    outbox.enqueue("low_balance", [(f"low:{c.pk}", c.pk, {"balance": "3.00"}) for c in customers])
    env = {**os.environ, "DATABASE_URL": database_url(), "NOTIFY_SEND_INLINE": "0"}

    killed = threading.Event()
    first = _sender(env)
    sends = []

    def kill_after_the_second_batch(headers):
        # Right after the provider's answer to the second send: the batch went out, and the
        # sender dies before it records that.
        action = headers.get("x-acs-action") or headers.get("X-TC-Action")
        if action in ("SendSms", "SendBatchSms"):
            sends.append(action)
            if len(sends) == 2 and not killed.is_set():
                first.send_signal(signal.SIGKILL)
                killed.set()

    stub.on_answer = kill_after_the_second_batch
    try:
        _wait(killed.is_set)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        delivered_before = len(stub.deliveries)
        sms = Message.objects.filter(channel="sms")
        left_sending = sms.filter(status="sending").count()
        assert delivered_before >= 2 and left_sending > 0  # killed with answered messages unsettled
        second = _sender(env)
        try:
            _wait(lambda: not Message.objects.exclude(status="sent").exists(), seconds=90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
    finally:
        stub.stop()
    counts = stub.by_recipient()
    assert len(counts) == N and set(counts.values()) == {1}, counts  # none lost, none doubled
    assert len(stub.deliveries) == N
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
