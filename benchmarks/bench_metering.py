"""Metering benchmark: bulk import (COPY), signed batch API through the whole HTTP stack
(a real runserver-free WSGI path: gunicorn is not installed, so Django's test Client drives the
full middleware + DRF stack in-process), and MQTT ingest through Mosquitto.

Usage: .venv/bin/python benchmarks/bench_metering.py [meters]   (default 2000)
"""

import datetime as dt
import json
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_metering")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.setdefault("DEBUG", "0")


def ensure_db() -> None:
    from urllib.parse import urlparse

    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    meters_n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    ensure_db()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from gasworks.metering import bulk, ingest
    from gasworks.metering.models import Meter, Reading
    from gasworks.metering.mqtt import Consumer, payload

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from gasworks.customers.management.commands import generate_data

    generate_data.EXTRA_GENERATORS.clear()  # this benchmark makes its own meters
    with open(os.devnull, "w") as quiet:
        call_command("generate_data", customers=meters_n, no_progress=True, stdout=quiet)
    from gasworks.customers.models import Customer

    today = timezone.localdate()
    installed = today - dt.timedelta(days=400)
    customers = list(Customer.objects.order_by("pk").values_list("premises_id", flat=True))
    Meter.objects.bulk_create(
        [Meter(serial_no=f"B{i:08d}", premises_id=p, installed_on=installed, kind="smart", max_flow_m3h=Decimal("10"))
         for i, p in enumerate(customers)], batch_size=5000)  # fmt: skip

    # 1. Bulk import: 12 monthly readings per meter through check_rows + import_rows (COPY).
    start_day = installed + dt.timedelta(days=2)
    table = [["serial_no", "value", "taken_at", "reason"]]
    for i in range(len(customers)):
        for month in range(12):
            table.append([f"B{i:08d}", f"{(month + 1) * 20 + i % 7}", f"{start_day + dt.timedelta(days=30 * month)} 09:00", "periodic"])  # fmt: skip
    t0 = time.perf_counter()
    rows, errors = bulk.check_rows(table)
    t1 = time.perf_counter()
    result = bulk.import_rows(rows)
    t2 = time.perf_counter()
    n = result["imported"]
    print(f"bulk import: {n} readings ({len(errors)} row errors, {result['flagged']} flagged); "
          f"check {n / (t1 - t0):,.0f} readings/s, store (VEE + COPY) {n / (t2 - t1):,.0f} readings/s, "
          f"end to end {n / (t2 - t0):,.0f} readings/s")  # fmt: skip

    # 2. Signed batch API: 1,000-reading batches through middleware, DRF, HMAC, VEE, bulk insert.
    devices = list(Meter.objects.order_by("pk")[:20])
    keys = {m.pk: ingest.issue_key(m) for m in devices}
    client = Client()
    batches = 40
    base_time = timezone.now() - dt.timedelta(days=20)
    bodies = []
    for b in range(batches):
        meter = devices[b % len(devices)]
        round_ = b // len(devices)
        items = [{"seq": round_ * 1000 + i + 1, "value": f"{300 + (round_ * 1000 + i) * 0.01:.3f}",
                  "taken_at": (base_time + dt.timedelta(minutes=10 * (round_ * 1000 + i))).isoformat()}
                 for i in range(1000)]  # fmt: skip
        raw = json.dumps({"readings": items}).encode()
        bodies.append((meter.serial_no, raw, ingest.sign(keys[meter.pk], raw)))
    t0 = time.perf_counter()
    accepted = 0
    for serial, raw, sig in bodies:
        r = client.post("/api/v1/ingest/readings/", raw, content_type="application/json",
                        HTTP_X_DEVICE=serial, HTTP_X_SIGNATURE=sig, secure=True)  # fmt: skip
        accepted += r.json().get("accepted", 0)
    elapsed = time.perf_counter() - t0
    print(
        f"signed batch API: {accepted} readings in {batches} batches of 1,000: {accepted / elapsed:,.0f} readings/s"
    )

    # 3. MQTT ingest: one reading per message, many devices, through Mosquitto.
    import paho.mqtt.client as mqtt

    messages_n = 5000
    mqtt_devices = list(Meter.objects.order_by("pk")[100:300])
    mkeys = {m.pk: ingest.issue_key(m) for m in mqtt_devices}
    payloads = []
    for k in range(messages_n):
        meter = mqtt_devices[k % len(mqtt_devices)]
        step = k // len(mqtt_devices)
        raw = json.dumps({"readings": [{"seq": step + 1, "value": f"{300 + step * 0.01:.3f}",
                          "taken_at": (base_time + dt.timedelta(minutes=10 * step)).isoformat()}]}).encode()  # fmt: skip
        payloads.append((f"gasworks/meters/{meter.serial_no}/readings", payload(raw, mkeys[meter.pk])))
    consumer = Consumer(settings.MQTT_URL, f"bench-{uuid.uuid4().hex[:8]}", group=1000, wait=0.2)
    done = {}
    thread = threading.Thread(target=lambda: done.setdefault("n", consumer.run(messages_n, idle_exit=30)))
    thread.start()
    consumer.ready.wait(10)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    from urllib.parse import urlparse

    parsed = urlparse(settings.MQTT_URL)
    pub.connect(parsed.hostname, parsed.port or 1883)
    pub.loop_start()
    t0 = time.perf_counter()
    infos = [pub.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(60)
    t_pub = time.perf_counter() - t0
    thread.join(120)
    elapsed = time.perf_counter() - t0
    pub.loop_stop()
    stored = Reading.objects.filter(meter__in=mqtt_devices, source="device").count()
    print(f"mqtt ingest: {done.get('n')} messages acknowledged, {stored} readings stored in {elapsed:.2f} s: "
          f"{(done.get('n') or 0) / elapsed:,.0f} messages/s (publishing alone {messages_n / t_pub:,.0f}/s)")  # fmt: skip


if __name__ == "__main__":
    main()
