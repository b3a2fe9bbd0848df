"""MQTT consumer of signed device readings (see ingest.py for the payload).

QoS 1 with a persistent session and manual acknowledgements: a message is acknowledged only
after the transaction that stored it has committed, so a crash or a broker restart before
that makes the broker deliver it again (and the device counter turns the repeat into a
counted duplicate). Messages are taken in groups so one transaction stores many.
"""

import json
import logging
import queue
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import close_old_connections

from gasworks.metering import ingest

TOPIC = "gasworks/meters/+/readings"
log = logging.getLogger(__name__)


def payload(body: bytes, key_hex: str) -> bytes:
    """What a device publishes: the HTTP body as text plus its signature."""
    return json.dumps({"body": body.decode(), "signature": ingest.sign(key_hex, body)}).encode()


def decode(message) -> ingest.Message:
    parts = message.topic.split("/")
    serial = parts[2] if len(parts) == 4 else ""
    try:
        data = json.loads(message.payload)
        return ingest.Message(serial, str(data["body"]).encode(), str(data["signature"]))
    except (ValueError, KeyError, TypeError):
        return ingest.Message(serial, b"", "")  # refused as a bad signature, then acknowledged


class Consumer:
    def __init__(self, url: str, client_id: str, topic: str = TOPIC, group: int = 500, wait: float = 0.05):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.topic, self.group, self.wait = topic, group, wait
        self.inbox: queue.Queue = queue.Queue()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.processed = 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311
        )
        if parsed.username:
            self.client.username_pw_set(parsed.username, parsed.password)
        self.client.manual_ack_set(True)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a, **k: self.ready.set()
        self.client.on_message = lambda client, userdata, msg: self.inbox.put(msg)
        self.client.on_disconnect = lambda *a, **k: self.ready.clear()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            client.subscribe(self.topic, qos=1)

    def run(self, max_messages: int | None = None, idle_exit: float | None = None) -> int:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()  # reconnects by itself after a broker restart
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                batch = self._take()
                if not batch:
                    if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                        break
                    continue
                idle_since = time.monotonic()
                self._handle(batch)
                if max_messages is not None and self.processed >= max_messages:
                    break
        finally:
            self.client.loop_stop()
            self.client.disconnect()
        return self.processed

    def _take(self) -> list:
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch, deadline = [first], time.monotonic() + self.wait
        while len(batch) < self.group:
            try:
                batch.append(self.inbox.get(timeout=max(0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _handle(self, batch: list) -> None:
        close_old_connections()
        try:
            outcomes = ingest.ingest([decode(m) for m in batch])
        except Exception:
            # Nothing committed: leave the messages unacknowledged for redelivery.
            log.exception("mqtt ingest failed; %d messages left unacknowledged", len(batch))
            time.sleep(1)
            return
        for message, outcome in zip(batch, outcomes, strict=True):
            if outcome.status != 200:
                log.warning("refused %s: %s", message.topic, outcome.body)
            self.client.ack(message.mid, message.qos)
        self.processed += len(batch)
