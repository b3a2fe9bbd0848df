"""Metering benchmark on PostgreSQL: bulk import, the signed batch API through a real HTTP
server, and MQTT ingest through Mosquitto.

1. Bulk import through check_rows (the preview) and import_rows (VEE + COPY), for two shapes of
   file: a year of history (12 monthly readings per meter, the given meters) and a month's
   route file (one reading for each of --route other meters, where per-meter work dominates). For scale, the same finished rows are also COPYed raw into metering_reading
   (no checks, no VEE; foreign keys checked; rolled back): what the database alone allows.
2. Signed batch API: gunicorn (2 sync workers, DEBUG off) serves /api/v1/ingest/readings/;
   client threads POST signed 1,000-reading batches (one thread per device, so each device's
   counter only grows); readings/s = accepted readings / wall time of all batches.
3. MQTT: one consumer process (the mqtt_ingest Consumer, QoS 1, acknowledgement after commit)
   and a publisher in this process; one reading per message; every message must be
   acknowledged and stored once. Live: messages/s = acknowledged messages / time from the
   first publish to the last acknowledgement (bounded by how fast one Python publisher on the
   same two cores can publish). Backlog: the consumer first only receives every message, then
   stores and acknowledges them: messages/s = messages / time from the start to the last
   acknowledgement, the consumer's own rate.

Usage: .venv/bin/python benchmarks/bench_metering.py [meters]   (default 2000)
       [--only bulk,api,mqtt] [--route 50000] [--batches 60] [--messages 10000] [--workers 2]
"""

import argparse
import datetime as dt
import http.client
import inspect
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_metering")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.setdefault("DEBUG", "0")


def ensure_db() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    admin = DB_URL.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup(meters_n: int) -> list:
    import django

    django.setup()
    from django.core.management import call_command

    from gasworks.customers.management.commands import generate_data
    from gasworks.customers.models import Customer
    from gasworks.metering.models import Meter

    call_command("migrate", verbosity=0)
    generate_data.EXTRA_GENERATORS.clear()  # this benchmark makes its own meters
    with open(os.devnull, "w") as quiet:
        call_command("generate_data", customers=meters_n, no_progress=True, stdout=quiet)
    from django.utils import timezone

    installed = timezone.localdate() - dt.timedelta(days=400)
    premises = list(Customer.objects.order_by("pk").values_list("premises_id", flat=True))
    Meter.objects.bulk_create(
        [Meter(serial_no=f"B{i:08d}", premises_id=p, installed_on=installed, kind="smart", max_flow_m3h=Decimal("10"))
         for i, p in enumerate(premises)], batch_size=5000)  # fmt: skip
    return list(Meter.objects.order_by("pk"))


# ---------------------------------------------------------------- CPU accounting
# The machine is shared, so wall-clock rates move with everyone else's load. CPU seconds spent
# by the processes doing the work (the app and its PostgreSQL backends) move much less: they
# give readings per CPU-second, and what two idle cores would reach.


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _backends() -> list[int]:
    """PostgreSQL backend pids connected to the benchmark database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds used between start() and stop() by the given processes and any PostgreSQL
    backend of the benchmark database (processes that appear meanwhile count from zero)."""

    def __init__(self, pids_of):
        self.pids_of = pids_of  # () -> app pids

    def start(self):
        self.app0 = {p: _cpu(p) for p in self.pids_of()}
        self.db0 = {p: _cpu(p) for p in _backends()}

    def stop(self) -> tuple[float, float]:
        app = sum(_cpu(p) - self.app0.get(p, 0.0) for p in set(self.pids_of()) | set(self.app0))
        db = sum(_cpu(p) - self.db0.get(p, 0.0) for p in set(_backends()) | set(self.db0))
        return app, db


def _cpu_line(count: int, unit: str, app: float, db: float, cores: int = 2) -> str:
    per = app + db
    return (f"  CPU: app {app:.2f} s + PostgreSQL {db:.2f} s for {count:,} {unit} = "
            f"{count / per:,.0f} {unit}/CPU-second; on {cores} idle cores about {cores * count / per:,.0f} {unit}/s")  # fmt: skip


# ---------------------------------------------------------------- 1. bulk import


def bench_bulk(meters, months: int, label: str) -> None:
    from django.db import connection

    from gasworks.metering import bulk

    start_day = meters[0].installed_on + dt.timedelta(days=2)
    table = [["serial_no", "value", "taken_at", "reason"]]
    for i, meter in enumerate(meters):
        for month in range(months):
            table.append([meter.serial_no, f"{(month + 1) * 20 + i % 7}", f"{start_day + dt.timedelta(days=30 * month)} 09:00", "periodic"])  # fmt: skip
    t0 = time.perf_counter()
    rows, errors = bulk.check_rows(table)
    t1 = time.perf_counter()
    try:
        raw_rate = _raw_copy(rows, meters) if connection.vendor == "postgresql" else None
    except ImportError:  # code from before gasworks.metering.store
        raw_rate = None
    cpu = CpuMeter(lambda: [os.getpid()])
    cpu.start()
    t2 = time.perf_counter()
    result = bulk.import_rows(rows)
    t3 = time.perf_counter()
    app, db = cpu.stop()
    n = result["imported"]
    check, store_s = t1 - t0, t3 - t2
    print(f"bulk import, {label}: {n} readings of {len(meters)} meters ({len(errors)} row errors, "
          f"{result['flagged']} flagged); "
          f"check {n / check:,.0f} readings/s, store (VEE + COPY) {n / store_s:,.0f} readings/s, "
          f"end to end {n / (check + store_s):,.0f} readings/s")  # fmt: skip
    print(_cpu_line(n, "readings", app, db) + " (store)")
    if raw_rate:
        print(f"  reference: raw COPY of the same {n} finished rows, indexes and foreign keys checked: "
              f"{raw_rate:,.0f} rows/s")  # fmt: skip


def _raw_copy(rows, meters) -> float:
    """Rows/s of a bare COPY of these readings (consumption precomputed) into metering_reading,
    constraints checked at once, then rolled back: the database's share of an import."""
    from django.db import connection, transaction
    from django.utils import timezone

    from gasworks.metering import store

    by_serial = {m.serial_no: m for m in meters}
    customers = store.billing_customers(m.premises_id for m in meters)
    now = timezone.now()
    finished = [
        (by_serial[r.serial_no].pk, customers[by_serial[r.serial_no].premises_id], r.value, r.taken_at,
         r.reason, "accepted", [], Decimal("20"), None, now, "import", None, "")
        for r in rows
    ]  # fmt: skip
    text = store._copy_lines(finished)
    columns = ", ".join(store.COLUMNS)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                t0 = time.perf_counter()
                with cursor.copy(f"COPY metering_reading ({columns}) FROM STDIN") as copy:
                    copy.write(text)
                elapsed = time.perf_counter() - t0
            raise _Rollback
    except _Rollback:
        pass
    return len(finished) / elapsed


class _Rollback(Exception):
    pass


# ---------------------------------------------------------------- 2. signed batch API


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, serial: str, raw: bytes, signature: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/ingest/readings/",
            body=raw,
            headers={
                "Content-Type": "application/json",
                "X-Device": serial,
                "X-Signature": signature,
                "X-Forwarded-Proto": "https",
            },
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def bench_api(meters, batches: int, threads: int = 4, workers: int = 2) -> None:
    from django.utils import timezone

    from gasworks.metering import ingest

    devices = meters[:20]
    keys = {m.pk: ingest.issue_key(m) for m in devices}
    rounds = -(-batches // len(devices))
    base_time = timezone.now() - dt.timedelta(minutes=10 * 1000 * rounds + 60 * 24)
    plan: dict[int, list] = {t: [] for t in range(threads)}  # thread -> its devices' batches, in order
    for b in range(batches):
        meter, round_ = devices[b % len(devices)], b // len(devices)
        items = [{"seq": round_ * 1000 + i + 1, "value": f"{300 + (round_ * 1000 + i) * 0.01:.3f}",
                  "taken_at": (base_time + dt.timedelta(minutes=10 * (round_ * 1000 + i))).isoformat()}
                 for i in range(1000)]  # fmt: skip
        raw = json.dumps({"readings": items}).encode()
        plan[(b % len(devices)) % threads].append((meter.serial_no, raw, ingest.sign(keys[meter.pk], raw)))
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": DB_URL, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "gasworks.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:  # up when an unsigned request gets its 401; warm both workers a little
            try:
                if _post(port, "NONE", b"{}", "00")[0] == 401:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
            time.sleep(0.3)
        for _ in range(4):
            _post(port, "NONE", b"{}", "00")
        results: list = []

        def client(jobs):
            for serial, raw, signature in jobs:
                started = time.perf_counter()
                status, body = _post(port, serial, raw, signature)
                results.append((status, body, time.perf_counter() - started))

        pool = [threading.Thread(target=client, args=(jobs,)) for jobs in plan.values()]
        cpu = CpuMeter(lambda: _children(server.pid))
        cpu.start()
        t0 = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join(300)
        elapsed = time.perf_counter() - t0
        app, db = cpu.stop()
    finally:
        server.terminate()
        server.wait(30)
    accepted = sum(body.get("accepted", 0) for _s, body, _t in results)
    refused = sum(len(body.get("rejected", [])) for _s, body, _t in results)
    failed = sum(1 for s, _b, _t in results if s != 200)
    latencies = sorted(t for _s, _b, t in results)
    p50 = latencies[len(latencies) // 2] if latencies else 0
    print(f"signed batch API (gunicorn -w {workers}, {threads} client threads): {accepted} readings "
          f"in {len(results)} batches of 1,000 ({refused} refused, {failed} non-200) in {elapsed:.2f} s: "
          f"{accepted / elapsed:,.0f} readings/s; batch p50 {p50 * 1000:.0f} ms")  # fmt: skip
    print(_cpu_line(accepted, "readings", app, db) + " (gunicorn workers and their backends)")


# ---------------------------------------------------------------- 3. MQTT


def _consume(url: str, client_id: str, expected: int, pipe, go, backlog) -> None:
    """The consumer process. Reports "ready" once subscribed, then (acknowledged, time of the
    last acknowledgement). Until ``go`` is set it only receives (the backlog run: the broker
    hands every message over, ``backlog`` counts them), then it stores and acknowledges."""
    from django.db import connections

    connections.close_all()  # the parent's connection stays the parent's
    from gasworks.metering.mqtt import Consumer

    options = {"group": 1000, "wait": 0.02, "topic": f"{client_id}/meters/+/readings"}
    accepted = inspect.signature(Consumer).parameters  # (the benchmark also measures older code)
    if "window" in accepted:
        options["window"] = min(65535, max(4000, expected))
    if "session_expiry" in accepted:
        options["session_expiry"] = 60
    consumer = Consumer(url, client_id, **options)
    last = {"at": 0.0}
    hook = "_store" if hasattr(consumer, "_store") else "_handle"  # older code: _handle
    store, take = getattr(consumer, hook), consumer._take

    def timed_store(batch):
        ok = store(batch)
        last["at"] = time.monotonic()
        return ok

    def gated_take():
        if not go.is_set():
            backlog.value = consumer.inbox.qsize()
            go.wait(0.05)
            return []
        return take()

    setattr(consumer, hook, timed_store)
    consumer._take = gated_take
    cpu0 = {}

    def report_ready():
        consumer.ready.wait(30)
        cpu0["app"] = time.process_time()
        pipe.send("ready")

    threading.Thread(target=report_ready, daemon=True).start()
    if os.environ.get("BENCH_PROFILE"):  # profile the consumer's main thread
        import cProfile

        profile = cProfile.Profile()
        done = profile.runcall(consumer.run, max_messages=expected, idle_exit=30)
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    else:
        done = consumer.run(max_messages=expected, idle_exit=30)
    # CPU of the whole consumer process (receiving thread included) and of its backend.
    app = time.process_time() - cpu0.get("app", 0.0)
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        db = _cpu(cursor.fetchone()[0])
    pipe.send((done, last["at"], app, db))


def _mqtt_run(meters, messages_n: int, backlog: bool) -> None:
    import paho.mqtt.client as mqtt
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from gasworks.metering import ingest
    from gasworks.metering.models import Reading
    from gasworks.metering.mqtt import payload

    devices = meters[300:500] if backlog else meters[100:300]
    client_id = f"bench-{uuid.uuid4().hex[:8]}"  # also the topic prefix: the broker is shared
    keys = {m.pk: ingest.issue_key(m) for m in devices}
    base_time = timezone.now() - dt.timedelta(days=20)
    payloads = []
    for k in range(messages_n):
        meter, step = devices[k % len(devices)], k // len(devices)
        raw = json.dumps({"readings": [{"seq": step + 1, "value": f"{300 + step * 0.01:.3f}",
                          "taken_at": (base_time + dt.timedelta(minutes=10 * step)).isoformat()}]}).encode()  # fmt: skip
        payloads.append((f"{client_id}/meters/{meter.serial_no}/readings", payload(raw, keys[meter.pk])))
    connections.close_all()
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    go, queued = context.Event(), context.Value("i", 0)
    if not backlog:
        go.set()
    consumer = context.Process(
        target=_consume,
        args=(settings.MQTT_URL, client_id, messages_n, child, go, queued),
    )
    consumer.start()
    if not parent.poll(30) or parent.recv() != "ready":
        raise SystemExit("the MQTT consumer did not subscribe")
    from urllib.parse import urlparse

    parsed = urlparse(settings.MQTT_URL)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect(parsed.hostname, parsed.port or 1883)
    pub.loop_start()
    t0 = time.monotonic()
    infos = [pub.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(120)
    t_pub = time.monotonic() - t0
    if backlog:  # wait until the consumer holds everything (or stops receiving more)
        held, since = -1, time.monotonic()
        while queued.value < messages_n and time.monotonic() - since < 3:
            if queued.value != held:
                held, since = queued.value, time.monotonic()
            time.sleep(0.05)
        held = queued.value
        t0 = time.monotonic()
        go.set()
    done, last_ack, app, db = parent.recv() if parent.poll(180) else (0, 0.0, 0.0, 0.0)
    consumer.join(30)
    pub.loop_stop()
    pub.disconnect()
    elapsed = (last_ack - t0) if last_ack else float("nan")
    stored = Reading.objects.filter(meter__in=devices, source="device").count()
    if backlog:
        print(f"mqtt ingest, backlog of {held} received messages (1 consumer process, 1 reading per "
              f"message): {done} acknowledged, {stored} readings stored, in {elapsed:.2f} s: "
              f"{done / elapsed:,.0f} messages/s")  # fmt: skip
        print(_cpu_line(done, "messages", app, db) + " (consumer process and its backend)")
    else:
        print(f"mqtt ingest, live (1 consumer process, 1 reading per message): {done} of {messages_n} "
              f"messages acknowledged, {stored} readings stored, in {elapsed:.2f} s from the first publish "
              f"to the last acknowledgement: {done / elapsed:,.0f} messages/s "
              f"(the publisher alone: {messages_n / t_pub:,.0f}/s)")  # fmt: skip
        print(_cpu_line(done, "messages", app, db) + " (consumer process and its backend)")


def bench_mqtt(meters, messages_n: int) -> None:
    if not os.environ.get("BENCH_BACKLOG_ONLY"):
        _mqtt_run(meters, messages_n, backlog=False)
    _mqtt_run(meters, messages_n, backlog=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("meters", nargs="?", type=int, default=2000)
    parser.add_argument("--only", default="bulk,api,mqtt")
    parser.add_argument("--route", type=int, default=50000, help="meters of the route-file import")
    parser.add_argument("--batches", type=int, default=60, help="1,000-reading API batches")
    parser.add_argument("--messages", type=int, default=10000, help="MQTT messages")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    ensure_db()
    route = args.route if "bulk" in parts else 0
    meters = setup(args.meters + route)
    meters, route_meters = meters[: args.meters], meters[args.meters :]
    if "bulk" in parts:
        bench_bulk(meters, 12, "a year of history (12 readings per meter)")
        if route_meters:
            bench_bulk(route_meters, 1, "a month's route file (1 reading per meter)")
    if "api" in parts:
        bench_api(meters, args.batches, workers=args.workers)
    if "mqtt" in parts:
        bench_mqtt(meters, args.messages)


if __name__ == "__main__":
    main()
