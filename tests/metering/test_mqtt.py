"""mqtt_ingest against the real Mosquitto: stored after commit, duplicates never twice."""

import datetime as dt
import json
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.db import connection
from django.utils import timezone

from gasworks.metering import ingest
from gasworks.metering.models import DeviceKey, Reading
from gasworks.metering.mqtt import Consumer, payload
from tests.metering.helpers import make_meter
from tests.services import require_mqtt

pytestmark = pytest.mark.django_db(transaction=True)


def start_consumer(url, expected):
    """A consumer on a topic tree of its own (the broker is shared with other test runs);
    returns it with its thread, its result and the topic prefix to publish under."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    consumer = Consumer(url, prefix, topic=f"{prefix}/meters/+/readings", group=200, session_expiry=60)
    result = {}

    def run():
        result["n"] = consumer.run(max_messages=expected, idle_exit=10)
        connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert consumer.ready.wait(10), "consumer did not subscribe"
    return consumer, thread, result, prefix


def publisher(url, inflight=20):
    from urllib.parse import urlparse

    parsed = urlparse(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(inflight)
    client.connect(parsed.hostname, parsed.port or 1883)
    client.loop_start()
    return client


def test_it_stores_mqtt_readings_and_a_thousand_duplicate_deliveries_once():
    url = require_mqtt()
    meter = make_meter(
        kind="smart", installed_on=timezone.localdate() - dt.timedelta(days=5), initial_reading=0
    )
    key = ingest.issue_key(meter)
    body = json.dumps(
        {
            "readings": [
                {"seq": 1, "value": "1.500", "taken_at": (timezone.now() - dt.timedelta(hours=1)).isoformat()}
            ]
        }
    ).encode()
    message = payload(body, key)
    _consumer, thread, result, prefix = start_consumer(url, 1001)
    pub = publisher(url)
    topic = f"{prefix}/meters/{meter.serial_no}/readings"
    infos = [pub.publish(topic, message, qos=1) for _ in range(1000)]
    bad = json.dumps({"body": body.decode(), "signature": "00" * 32})
    infos.append(pub.publish(topic, bad, qos=1))
    for info in infos:
        info.wait_for_publish(10)
    thread.join(60)
    pub.loop_stop()
    assert result.get("n") == 1001
    assert Reading.objects.filter(meter=meter).count() == 1
    assert DeviceKey.objects.get(meter=meter).last_seq == 1
    assert DeviceKey.objects.get(meter=meter).signature_failures == 1


class FakeClient:
    def __init__(self):
        self.acked = []

    def ack(self, mid, qos):
        self.acked.append(mid)


def fake_message(mid, serial="M1"):
    message = mqtt.MQTTMessage(mid=mid, topic=f"gasworks/meters/{serial}/readings".encode())
    message.payload, message.qos = b"{}", 1
    return message


def test_it_acknowledges_a_group_only_after_it_was_stored_and_retries_a_failure(monkeypatch):
    consumer = Consumer("mqtt://127.0.0.1:1", "unit")
    consumer.client, consumer.retry_delays = FakeClient(), (0, 0)
    calls = []

    def flaky(messages):
        calls.append(len(messages))
        if len(calls) == 1:
            assert consumer.client.acked == []
            raise RuntimeError("database away")
        return [ingest.Outcome(200, {}) for _ in messages]

    monkeypatch.setattr(ingest, "ingest", flaky)
    consumer._handle([fake_message(1), fake_message(2)])
    assert calls == [2, 2] and consumer.client.acked == [1, 2] and consumer.processed == 2


def test_it_leaves_a_message_that_keeps_failing_unacknowledged(monkeypatch):
    consumer = Consumer("mqtt://127.0.0.1:1", "unit")
    consumer.client, consumer.retry_delays = FakeClient(), (0, 0)

    def poisoned(messages):
        if any(m.serial_no == "BAD" for m in messages):
            raise RuntimeError("cannot store")
        return [ingest.Outcome(200, {}) for _ in messages]

    monkeypatch.setattr(ingest, "ingest", poisoned)
    consumer._handle([fake_message(1), fake_message(2, "BAD"), fake_message(3)])
    assert consumer.client.acked == [1, 3]  # the broker delivers 2 again in the next session


def test_it_loses_nothing_in_a_burst_larger_than_the_old_broker_window():
    # Mosquitto's defaults: 20 messages in flight to an MQTT 3.1.1 session and 1,000 queued,
    # then it drops. A burst of 2,500 messages from 50 devices must all be stored.
    url = require_mqtt()
    installed = timezone.localdate() - dt.timedelta(days=5)
    devices = [make_meter(kind="smart", installed_on=installed, initial_reading=0) for _ in range(50)]
    keys = {m.pk: ingest.issue_key(m) for m in devices}
    start = timezone.now() - dt.timedelta(days=2)
    _consumer, thread, result, prefix = start_consumer(url, 2500)
    pub = publisher(url, inflight=1000)
    infos = []
    for step in range(50):
        for meter in devices:
            reading = {"seq": step + 1, "value": f"{step * 0.1:.3f}",
                       "taken_at": (start + dt.timedelta(minutes=10 * step)).isoformat()}  # fmt: skip
            body = json.dumps({"readings": [reading]}).encode()
            infos.append(
                pub.publish(
                    f"{prefix}/meters/{meter.serial_no}/readings", payload(body, keys[meter.pk]), qos=1
                )
            )
    for info in infos:
        info.wait_for_publish(30)
    thread.join(120)
    pub.loop_stop()
    assert result.get("n") == 2500
    assert Reading.objects.filter(meter__in=devices).count() == 2500
    assert set(DeviceKey.objects.filter(meter__in=devices).values_list("last_seq", flat=True)) == {50}


def test_it_keeps_mqtt5_properties_working_with_shared_tables():
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import MQTTException, Properties

    assert getattr(Properties.__init__, "shares_tables", False)
    sent = Properties(PacketTypes.PUBLISH)
    sent.MessageExpiryInterval = 60
    sent.UserProperty = ("device", "M1")
    received = Properties(PacketTypes.PUBLISH)
    received.unpack(sent.pack())
    assert (received.MessageExpiryInterval, received.UserProperty) == (60, [("device", "M1")])
    other = Properties(PacketTypes.CONNECT)
    other.ReceiveMaximum = 500
    assert not hasattr(Properties(PacketTypes.CONNECT), "ReceiveMaximum")  # values stay per object
    with pytest.raises(MQTTException):
        other.TopicAlias = 3  # the packet rules still apply
