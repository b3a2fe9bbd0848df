"""Payments benchmark on PostgreSQL.

1. Counter payments: N concurrent cashiers (threads, default 50), each with its own API token,
   POST /api/v1/payments/ (cash, Idempotency-Key) against a real gunicorn server on 127.0.0.1
   (gunicorn.conf.py; BENCH_WEB_WORKERS / BENCH_WEB_THREADS override its workers and threads,
   BENCH_GUNICORN_ARGS adds arguments). Two runs, both printed with p50/p95/p99 latency
   (benchmarks/_setup.percentile: nearest rank, the round(p/100 * n)-th fastest) and payments/s:
   a. closed loop, no think time: every cashier sends its next payment the moment the last one
      is answered (the harsh version: 50 requests always in flight). Also prints the CPU one
      payment costs the web workers, this load generator and PostgreSQL.
   b. paced: each cashier waits 0.5-1.5 x BENCH_THINK_MS (default 1000 ms) between payments,
      BENCH_PACED_PER_CASHIER (default 6) each; still far busier than a real counter, where
      serving one customer takes a cashier tens of seconds. BENCH_THINK_MS=0 skips it.
2. Bank statement: a CSV of M transfers (default 5000) imported with the import_bank_statement
   service; prints payments/s, then imports the same file again (all duplicates).

Usage: .venv/bin/python benchmarks/bench_payments.py [cashiers] [payments_per_cashier] [statement_rows]
Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/gasworks_bench_payments),
created and migrated here."""

import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

from _setup import percentile  # p in percent; nearest rank: the round(p/100 * n)-th smallest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_payments")
os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
SERVER_ENV = {"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "API_THROTTLE_USER": "1000000/minute"}
os.environ.update(SERVER_ENV)


def ensure_database() -> None:
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin = DB_URL.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_shape(master: int) -> str:
    threads = os.environ.get("BENCH_WEB_THREADS") or os.environ.get("GUNICORN_THREADS") or "conf"
    return f"gunicorn gthread workers={len(_children(master))} threads={threads}"


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """CPU seconds spent by the web workers, this load generator and the benchmark database's
    PostgreSQL backends between two reads: what one payment costs the machine's cores."""

    def __init__(self, master: int, dbname: str):
        self.master, self.dbname = master, dbname
        self.workers = set(_children(master))
        self.start = self._sample()

    @property
    def workers_replaced(self) -> bool:
        """A worker recycled (max_requests) or restarted in between takes its CPU time with it:
        the web figure would then be too low, so the report says so."""
        return set(_children(self.master)) != self.workers

    def _sample(self) -> dict[str, float]:
        import psycopg

        admin = DB_URL.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(admin, autocommit=True) as conn:
            pids = [
                r[0]
                for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.dbname])
            ]
        return {
            "web": sum(_cpu_seconds(p) for p in _children(self.master)),
            "client": time.process_time(),
            "postgres": sum(_cpu_seconds(p) for p in pids),
        }

    def read(self) -> dict[str, float]:
        end = self._sample()
        return {k: end[k] - self.start[k] for k in end}


def counter_phase(port, customers, tokens, per_cashier, run_id, think):
    """Every cashier (a thread) posts per_cashier cash payments; think > 0 waits a random 0.5-1.5 x think between them."""
    import http.client
    import random

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def cashier(index: int) -> None:
        rng = random.Random(index)
        if think:
            time.sleep(rng.uniform(0, think))  # cashiers do not start in lockstep
        for n in range(per_cashier):
            body = json.dumps(
                {
                    "customer": customers[(index * per_cashier + n) % len(customers)].pk,
                    "amount": "35.50",
                    "method": "cash",
                    "tendered": "50",
                }
            )
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Token {tokens[index]}",
                "Idempotency-Key": f"{run_id}-{index}-{n}",
            }
            started = time.perf_counter()
            # A new connection per payment, as the original benchmark did: kept-alive connections
            # stay with the worker process that accepted them, which skews the load per worker.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("POST", "/api/v1/payments/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 201
                if not ok:
                    with lock:
                        errors.append(f"HTTP {response.status}")
            except Exception as exc:
                ok = False
                with lock:
                    errors.append(str(exc))
            finally:
                conn.close()
            elapsed = time.perf_counter() - started
            if ok:
                with lock:
                    latencies.append(elapsed)
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=cashier, args=(i,)) for i in range(len(tokens))]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - wall


def report(label: str, result) -> None:
    latencies, errors, wall = result
    ms = [v * 1000 for v in latencies]
    print(f"counter payments, {label}: ok={len(ms)} errors={len(errors)}")
    if ms:
        print(
            f"  latency ms: p50={percentile(ms, 50):.1f} p95={percentile(ms, 95):.1f} "
            f"p99={percentile(ms, 99):.1f} max={max(ms):.1f}; throughput {len(ms) / wall:.0f} payments/s"
        )
    if errors:
        print(f"  first error: {errors[0]}")


def main() -> None:
    cashiers_n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    per_cashier = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 5000

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rest_framework.authtoken.models import Token

    from gasworks.payments.bankstatement import import_file
    from tests.factories import make_customer, make_user

    run_id = uuid.uuid4().hex[:6]
    customers = [make_customer(name=f"压测{run_id}{i}") for i in range(200)]
    tokens = [
        Token.objects.create(user=make_user("cashier", username=f"bench{run_id}c{i}")).key
        for i in range(cashiers_n)
    ]

    port = free_port()
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "gasworks.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if (ROOT / "gunicorn.conf.py").exists():
        command += ["-c", str(ROOT / "gunicorn.conf.py")]
    # Through gunicorn.conf.py's own variables, so that what it derives from them (the worker
    # connections from the threads) follows.
    shape_env = {
        name: os.environ[bench]
        for bench, name in (
            ("BENCH_WEB_WORKERS", "GUNICORN_WORKERS"),
            ("BENCH_WEB_THREADS", "GUNICORN_THREADS"),
        )
        if os.environ.get(bench)
    }
    command += os.environ.get("BENCH_GUNICORN_ARGS", "").split()
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **SERVER_ENV, **shape_env})
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1)  # let every worker finish booting
        shape = server_shape(server.pid)
        think = float(os.environ.get("BENCH_THINK_MS", "1000")) / 1000
        paced_n = int(os.environ.get("BENCH_PACED_PER_CASHIER", "6"))
        clock = Clock(server.pid, urlparse(DB_URL).path.lstrip("/"))
        result = counter_phase(port, customers, tokens, per_cashier, run_id + "c", think=0)
        cpu, replaced, cores = clock.read(), clock.workers_replaced, os.cpu_count() or 1
        report(f"closed loop, no think time ({shape})", result)
        if result[0]:
            print(
                "counter cpu ms per payment: "
                + " ".join(f"{k}={v * 1000 / len(result[0]):.1f}" for k, v in cpu.items())
                + f" (of {cores * 1000 * result[2] / len(result[0]):.1f} ms of {cores} cores per payment"
                + " at that rate)"
                + (
                    " WARNING: a web worker was replaced during the run, web is undercounted"
                    if replaced
                    else ""
                )
            )
        if paced_n and think:
            result = counter_phase(port, customers, tokens, paced_n, run_id + "p", think=think)
            report(f"paced, think time {think * 500:.0f}-{think * 1500:.0f} ms per cashier ({shape})", result)
    finally:
        server.terminate()
        server.wait(10)

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_no", "amount", "bank_txn_id"])
        for i in range(rows):
            writer.writerow(
                [
                    customers[i % len(customers)].account_no,
                    f"{10 + i % 90}.{i % 100:02d}",
                    f"B{run_id}{i:08d}",
                ]
            )
        path = handle.name
    started = time.perf_counter()
    result = import_file(path)
    seconds = time.perf_counter() - started
    print(
        f"bank statement: rows={rows} created={result.created} errors={len(result.errors)} "
        f"seconds={seconds:.2f} payments_per_second={result.created / seconds:.0f}"
    )
    started = time.perf_counter()
    again = import_file(path)
    seconds = time.perf_counter() - started
    print(
        f"bank statement re-import: duplicates={again.duplicates} created={again.created} seconds={seconds:.2f}"
    )
    os.unlink(path)


if __name__ == "__main__":
    main()
