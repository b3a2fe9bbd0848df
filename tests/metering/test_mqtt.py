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
    consumer = Consumer(url, f"test-{uuid.uuid4().hex[:10]}", group=200)
    result = {}

    def run():
        result["n"] = consumer.run(max_messages=expected, idle_exit=10)
        connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert consumer.ready.wait(10), "consumer did not subscribe"
    return consumer, thread, result


def publisher(url):
    from urllib.parse import urlparse

    parsed = urlparse(url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
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
    _consumer, thread, result = start_consumer(url, 1001)
    pub = publisher(url)
    topic = f"gasworks/meters/{meter.serial_no}/readings"
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
