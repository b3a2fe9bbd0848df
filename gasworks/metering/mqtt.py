"""MQTT consumer of signed device readings (see ingest.py for the payload).

QoS 1 with a persistent session and manual acknowledgements: a message is acknowledged only
after the transaction that stored it has committed, so a crash or a broker restart before
that makes the broker deliver it again (and the device counter turns the repeat into a
counted duplicate). Messages are taken in groups so one transaction stores many.

MQTT 5 lets the consumer say how many unacknowledged messages it takes at once (Receive
Maximum). Under MQTT 3.1.1 Mosquitto hands out only max_inflight_messages (default 20) and
queues the rest up to max_queued_messages (default 1000) per session, then DROPS what comes
next: a consumer waiting to commit groups of 20 fell behind a busy publisher and the broker
discarded thousands of messages it had acknowledged to the devices. With a window of a few
thousand the broker passes messages on at once, the consumer keeps up, and the broker queue
only has to cover the consumer being down (raise max_queued_messages for long outages).

Several consumers share the load through an MQTT 5 shared subscription
(``$share/<group>/<topic>``): the broker hands each message to one member of the group. Each
member keeps its own persistent session under its own, stable client id, so a member that is
restarted gets back what it had been handed but not acknowledged; were it gone for good, its
session expires and those messages with it, which is why a member is restarted, not replaced
by one with a new id. Whatever reaches two members (a redelivery) is still stored once: the
device's sequence number makes the second a counted duplicate.

A message that cannot be read at all (not the JSON envelope below, nested too deep for the
parser, larger than MAX_PAYLOAD) is no reason to stop: retrying cannot make it readable. It is
kept as a DeadLetter with its reason and acknowledged at once, and the good messages of its
group are stored as usual; it is never delivered again.
"""

import json
import logging
import queue
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.db import close_old_connections
from django.utils import timezone
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gasworks.lib import safejson
from gasworks.metering import ingest
from gasworks.metering.models import DeadLetter, DeadLetterReason


def _share_property_tables() -> None:
    """paho (2.x) builds the same constant lookup tables (property names, types, which packet
    may carry which) for every MQTT 5 Properties object, that is for every message received:
    about two thirds of the consumer's receive time. Build them once and share them; they are
    only ever read. Left alone if Properties does not look like the one this was written for."""
    if getattr(Properties.__init__, "shares_tables", False):
        return
    sample = Properties(PacketTypes.PUBLISH)
    if set(vars(sample)) != {"packetType", "types", "names", "properties"}:
        return
    tables = {name: value for name, value in vars(sample).items() if name != "packetType"}

    def __init__(self, packetType):
        vars(self).update(tables, packetType=packetType)

    __init__.shares_tables = True  # type: ignore[attr-defined]
    Properties.__init__ = __init__  # type: ignore[method-assign]  # the patch is the point


_share_property_tables()

TOPIC = "gasworks/meters/+/readings"
SESSION_EXPIRY = 7 * 24 * 3600  # the broker keeps the session (and queues for it) a week
# A full batch (ingest.MAX_BATCH readings of ~100 bytes, escaped once more in the envelope)
# is well under this; anything larger is not a device message.
MAX_PAYLOAD = 256 * 1024
log = logging.getLogger(__name__)


def payload(body: bytes, key_hex: str) -> bytes:
    """What a device publishes: the HTTP body as text plus its signature."""
    return json.dumps({"body": body.decode(), "signature": ingest.sign(key_hex, body)}).encode()


def shared_topic(share: str, topic: str) -> str:
    """The filter a member of the consumer group `share` subscribes to (MQTT 5 shared
    subscription), or the plain topic when there is no group."""
    if not share:
        return topic
    if any(c in share for c in "/+#"):
        raise ValueError(f"a share name cannot contain / + or #: {share!r}")
    return f"$share/{share}/{topic}"


class Undecodable(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def decode(message) -> ingest.Message:
    """The device message in an MQTT message, or Undecodable saying why there is none."""
    if len(message.payload) > MAX_PAYLOAD:
        raise Undecodable(DeadLetterReason.TOO_LARGE, f"{len(message.payload)} > {MAX_PAYLOAD} bytes")
    parts = message.topic.split("/")
    serial = parts[2] if len(parts) == 4 else ""
    try:
        data = safejson.loads(message.payload)
    except ValueError as exc:  # safejson: nested too deep is a ValueError too
        raise Undecodable(DeadLetterReason.UNDECODABLE, f"not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("body", "signature")):
        raise Undecodable(DeadLetterReason.UNDECODABLE, 'not {"body": text, "signature": text}')
    return ingest.Message(serial, data["body"].encode(), data["signature"])


def dead_letter(message, problem: Undecodable, at) -> DeadLetter:
    kept = bytes(message.payload[: DeadLetter.PAYLOAD_KEPT])
    return DeadLetter(
        topic=message.topic[:255],
        payload=kept.decode("utf-8", errors="backslashreplace"),
        size=len(message.payload),
        reason=problem.reason,
        detail=problem.detail[:255],
        received_at=at,
    )


class Consumer:
    retry_delays = (1, 2, 5)  # seconds after each failed attempt at a whole group

    def __init__(
        self,
        url: str,
        client_id: str,
        topic: str = TOPIC,
        group: int = 500,
        wait: float = 0.05,
        window: int | None = None,
        session_expiry: int = SESSION_EXPIRY,
        share: str = "",
    ):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.topic = shared_topic(share, topic)
        self.group, self.wait = group, wait
        self.session_expiry = session_expiry
        # Unacknowledged messages the broker may hand over at once (MQTT 5 Receive Maximum):
        # the next groups wait here while one commits, and a burst up to this size (plus the
        # broker's own queue) is held rather than dropped. A few hundred bytes each.
        self.window = min(window or max(4 * group, 10_000), 65535)
        self.inbox: queue.Queue = queue.Queue()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.processed = 0
        self.dead_letters = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
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
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = self.window
        properties.SessionExpiryInterval = self.session_expiry
        # clean_start=False: a restarted consumer resumes its session and gets what was
        # delivered but never acknowledged, plus what the broker queued meanwhile.
        self.client.connect_async(
            self.host, self.port, keepalive=30, clean_start=False, properties=properties
        )
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
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.inbox.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def _handle(self, batch: list) -> None:
        """Store a group and acknowledge each message after the commit. Messages that cannot be
        decoded are dead-lettered first, so they never fail the group. A failed group (the
        database away) is retried; if it keeps failing, message by message, and one that
        still fails stays unacknowledged: the broker delivers it again on the next session."""
        decoded = self._dead_letter(batch)
        if not decoded:
            return
        for delay in self.retry_delays:
            if self._store(decoded):
                return
            if self.stop.wait(delay):
                return
        for pair in decoded:
            if not self._store([pair]):
                log.error("mqtt ingest: %s left unacknowledged after retries", pair[0].topic)

    def _dead_letter(self, batch: list) -> list:
        """Keep and acknowledge the messages of the group that cannot be decoded; returns the
        others, each paired with its device message."""
        good, dead, now = [], [], timezone.now()
        for message in batch:
            try:
                good.append((message, decode(message)))
            except Undecodable as problem:
                dead.append((message, dead_letter(message, problem, now)))
        if dead:
            close_old_connections()
            try:
                ingest.dead_letter([letter for _message, letter in dead])
            except Exception:
                # Not kept: leave them to the next session (they still cannot stall the group).
                log.exception("mqtt ingest: %d dead letters not stored", len(dead))
                return good
            for message, letter in dead:
                log.warning("dead letter on %s: %s (%s)", message.topic, letter.reason, letter.detail)
                self.client.ack(message.mid, message.qos)
            self.dead_letters += len(dead)
            self.processed += len(dead)
        return good

    def _store(self, decoded: list) -> bool:
        """Store (message, device message) pairs in one transaction, then acknowledge them."""
        batch = [message for message, _device in decoded]
        close_old_connections()
        try:
            outcomes = ingest.ingest([device for _message, device in decoded])
        except Exception:
            # Nothing committed: acknowledge nothing.
            log.exception("mqtt ingest failed for %d messages", len(batch))
            return False
        for message, outcome in zip(batch, outcomes, strict=True):
            if outcome.status != 200:
                log.warning("refused %s: %s", message.topic, outcome.body)
            self.client.ack(message.mid, message.qos)
        self.processed += len(batch)
        return True
