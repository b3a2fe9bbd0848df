"""Payments benchmark on PostgreSQL.

1. Counter payments: N concurrent cashiers (threads, default 50), each with its own API token,
   POST /api/v1/payments/ (cash, Idempotency-Key) against a real gunicorn server on 127.0.0.1;
   prints p50/p95/p99 latency and payments/s.
2. Bank statement: a CSV of M transfers (default 5000) imported with the import_bank_statement
   service; prints payments/s, then imports the same file again (all duplicates).

Usage: .venv/bin/python benchmarks/bench_payments.py [cashiers] [payments_per_cashier] [statement_rows]
Database: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/gasworks_bench_payments),
created and migrated here."""

import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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
    workers = os.environ.get("BENCH_WEB_WORKERS", "3")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "gasworks.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            workers,
            "-k",
            "gthread",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/api/v1/payments/"
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def cashier(index: int) -> None:
            for n in range(per_cashier):
                body = json.dumps(
                    {
                        "customer": customers[(index * per_cashier + n) % len(customers)].pk,
                        "amount": "35.50",
                        "method": "cash",
                        "tendered": "50",
                    }
                ).encode()
                request = urllib.request.Request(
                    url,
                    data=body,
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Token {tokens[index]}",
                        "Idempotency-Key": f"{run_id}-{index}-{n}",
                        "Host": "127.0.0.1",
                    },
                )
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        response.read()
                        ok = response.status == 201
                except Exception as exc:
                    ok = False
                    with lock:
                        errors.append(str(exc))
                elapsed = time.perf_counter() - started
                if ok:
                    with lock:
                        latencies.append(elapsed)

        threads = [threading.Thread(target=cashier, args=(i,)) for i in range(cashiers_n)]
        wall = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall
        ms = [v * 1000 for v in latencies]
        print(
            f"counter payments: cashiers={cashiers_n} ok={len(ms)} errors={len(errors)} "
            f"server=gunicorn gthread workers={workers}x8"
        )
        if ms:
            print(
                f"counter latency ms: p50={statistics.median(ms):.1f} p95={percentile(ms, 0.95):.1f} "
                f"p99={percentile(ms, 0.99):.1f} max={max(ms):.1f}"
            )
            print(f"counter throughput: {len(ms) / wall:.0f} payments/s")
        if errors:
            print(f"first error: {errors[0]}")
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
