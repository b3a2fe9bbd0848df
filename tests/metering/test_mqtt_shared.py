"""Two mqtt_ingest processes sharing one MQTT 5 subscription on the machine's Mosquitto: the
broker splits the messages between them, each message is stored once, and a member killed
mid-stream and restarted under its own client id loses nothing."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.utils import timezone

from gasworks.metering import ingest
from gasworks.metering.models import DeviceKey, Reading
from gasworks.metering.mqtt import shared_topic
from tests.metering.helpers import make_meter
from tests.metering.test_mqtt import publish_steps, publisher
from tests.services import database_url, require_mqtt

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_share_name_becomes_the_shared_filter_and_bad_names_are_refused():
    assert shared_topic("", "a/+/b") == "a/+/b"
    assert shared_topic("ingest", "a/+/b") == "$share/ingest/a/+/b"
    for bad in ("x/y", "x+", "#"):
        with pytest.raises(ValueError):
            shared_topic(bad, "a/b")


class Member:
    """One `manage.py mqtt_ingest --share` process."""

    def __init__(self, url: str, share: str, client_id: str, topic: str):
        env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "mqtt_ingest", "--url", url, "--share", share,
             "--client-id", client_id, "--topic", topic, "--session-expiry", "120", "--idle-exit", "20"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def subscribed(self) -> "Member":
        lines = []
        for line in self.process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.strip() == "subscribed":
                return self
        raise AssertionError("mqtt_ingest never subscribed:\n" + "".join(lines))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def processed(self) -> int:
        out, _ = self.process.communicate(timeout=120)
        assert self.process.returncode == 0, out
        return int(out.rsplit("processed ", 1)[1].split()[0])


@pytest.mark.postgres_only
def test_two_ingest_processes_share_the_work_and_store_each_message_once_across_a_kill():
    url = require_mqtt()
    installed = timezone.localdate() - dt.timedelta(days=5)
    devices = [make_meter(kind="smart", installed_on=installed, initial_reading=0) for _ in range(20)]
    keys = {m.pk: ingest.issue_key(m) for m in devices}
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    topic, share = f"{prefix}/meters/+/readings", f"ingest-{prefix}"
    # Both start at once: each stops after 20 idle seconds, counted from its start.
    first, second = Member(url, share, f"{prefix}-1", topic), Member(url, share, f"{prefix}-2", topic)
    first.subscribed(), second.subscribed()

    steps = 60
    pub = publisher(url, inflight=200)
    infos = publish_steps(pub, prefix, devices, keys, steps)
    total = len(infos)

    # Kill the second member with SIGKILL while messages are still arriving, then restart it
    # under the same client id: its session hands back what it held unacknowledged.
    deadline = time.monotonic() + 60
    while Reading.objects.filter(meter__in=devices).count() < total // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    second.kill()
    for info in infos:
        info.wait_for_publish(30)
    pub.loop_stop()
    restarted = Member(url, share, f"{prefix}-2", topic).subscribed()

    done_first, done_restarted = first.processed(), restarted.processed()
    stored = Reading.objects.filter(meter__in=devices).count()
    assert stored == total  # none lost, none twice (one reading per meter and time)
    assert set(DeviceKey.objects.filter(meter__in=devices).values_list("last_seq", flat=True)) == {steps}
    # The broker split the work: the first member did not take it all.
    assert 0 < done_first < total
    assert done_first + done_restarted <= total + 200  # redeliveries are at most one window's worth
