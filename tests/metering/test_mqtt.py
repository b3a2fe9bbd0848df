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
from gasworks.metering.models import DeadLetter, DeadLetterReason, DeviceKey, Reading
from gasworks.metering.mqtt import MAX_PAYLOAD, Consumer, payload
from tests.metering.helpers import make_meter
from tests.services import require_mqtt

pytestmark = pytest.mark.django_db(transaction=True)


def start_consumer(url, expected, prefix=None, retry_delays=None):
    """A consumer on a topic tree of its own (the broker is shared with other test runs);
    returns it with its thread, its result and the topic prefix to publish under. Given the
    prefix of an earlier one, it resumes that consumer's session (a restart)."""
    prefix = prefix or f"test-{uuid.uuid4().hex[:10]}"
    consumer = Consumer(url, prefix, topic=f"{prefix}/meters/+/readings", group=200, session_expiry=60)
    consumer.retry_delays = retry_delays or consumer.retry_delays
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


def publish_steps(pub, prefix: str, devices, keys: dict, steps: int) -> list:
    """Each device publishes `steps` signed readings ten minutes apart (QoS 1): the publish
    handles, to wait on."""
    start = timezone.now() - dt.timedelta(days=2)
    infos = []
    for step in range(steps):
        for meter in devices:
            reading = {"seq": step + 1, "value": f"{step * 0.1:.3f}",
                       "taken_at": (start + dt.timedelta(minutes=10 * step)).isoformat()}  # fmt: skip
            body = json.dumps({"readings": [reading]}).encode()
            topic = f"{prefix}/meters/{meter.serial_no}/readings"
            infos.append(pub.publish(topic, payload(body, keys[meter.pk]), qos=1))
    return infos


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


def fake_message(mid, serial="M1", raw=None):
    message = mqtt.MQTTMessage(mid=mid, topic=f"gasworks/meters/{serial}/readings".encode())
    message.payload = json.dumps({"body": "{}", "signature": "00"}).encode() if raw is None else raw
    message.qos = 1
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
    _consumer, thread, result, prefix = start_consumer(url, 2500)
    pub = publisher(url, inflight=1000)
    infos = publish_steps(pub, prefix, devices, keys, 50)
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


def signed_reading(key, seq, hours_ago):
    taken = (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat()
    return payload(
        json.dumps({"readings": [{"seq": seq, "value": f"{seq}.000", "taken_at": taken}]}).encode(), key
    )


def test_a_poison_message_is_dead_lettered_at_once_and_never_redelivered():
    """100,000 '[' need no device key; json.loads gives up with RecursionError. It used to fail
    its whole group: retried for seconds, never acknowledged, and back after every restart."""
    url = require_mqtt()
    meter = make_meter(
        kind="smart", installed_on=timezone.localdate() - dt.timedelta(days=5), initial_reading=0
    )
    key = ingest.issue_key(meter)
    # A retry would wait longer than the test waits for the consumer: the group must go through
    # on its first attempt.
    _consumer, thread, result, prefix = start_consumer(url, 4, retry_delays=(3600,))
    topic = f"{prefix}/meters/{meter.serial_no}/readings"
    pub = publisher(url)
    messages = [
        signed_reading(key, 1, 3),
        b"[" * 100_000,
        b"x" * (MAX_PAYLOAD + 1),
        signed_reading(key, 2, 2),
    ]
    for info in [pub.publish(topic, m, qos=1) for m in messages]:
        info.wait_for_publish(10)
    thread.join(60)
    assert result.get("n") == 4, "the consumer stalled on the poison message"
    assert list(Reading.objects.filter(meter=meter).order_by("seq").values_list("seq", flat=True)) == [1, 2]
    letters = list(DeadLetter.objects.order_by("pk"))
    assert [(d.topic, d.reason, d.size) for d in letters] == [
        (topic, DeadLetterReason.UNDECODABLE, 100_000),
        (topic, DeadLetterReason.TOO_LARGE, MAX_PAYLOAD + 1),
    ]
    assert letters[0].payload == "[" * DeadLetter.PAYLOAD_KEPT and "TooDeep" in letters[0].detail
    assert DeviceKey.objects.get(meter=meter).signature_failures == 0  # no device is blamed

    # Restart: the session resumes. Had the poison not been acknowledged, the broker would hand it
    # over first, and this consumer (stopping after one message) would never get the new reading.
    consumer, thread, result, _prefix = start_consumer(url, 1, prefix=prefix)
    pub.publish(topic, signed_reading(key, 3, 1), qos=1).wait_for_publish(10)
    thread.join(60)
    pub.loop_stop()
    assert result.get("n") == 1 and consumer.dead_letters == 0
    assert Reading.objects.filter(meter=meter, seq=3).exists()
    assert DeadLetter.objects.count() == 2


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b'{"body": "{}"}', b'{"body": {}, "signature": "00"}', b"\xff\xfe", b"[" * 5000],
)
def test_every_undecodable_message_is_acknowledged_without_reaching_ingest(monkeypatch, raw):
    consumer = Consumer("mqtt://127.0.0.1:1", "unit")
    consumer.client, consumer.retry_delays = FakeClient(), (0, 0)
    stored = []
    monkeypatch.setattr(
        ingest, "ingest", lambda ms: stored.extend(ms) or [ingest.Outcome(200, {}) for _ in ms]
    )
    consumer._handle([fake_message(1), fake_message(2, raw=raw), fake_message(3)])
    assert consumer.client.acked == [2, 1, 3] and [m.serial_no for m in stored] == ["M1", "M1"]
    assert DeadLetter.objects.get().reason == DeadLetterReason.UNDECODABLE and consumer.dead_letters == 1
