"""Where one counter payment's time goes, in-process on PostgreSQL (no HTTP server, no threads).

1. Lists every SQL statement of one POST /api/v1/payments/ (cash, Idempotency-Key), after a
   warm-up payment that opened the cashier's shift and the customer's account.
2. Times N payments through the WSGI application exactly as gunicorn calls it (a fresh environ
   per request, Token auth) and prints CPU ms per payment of this process and of the database
   backend (from /proc, PostgreSQL on this machine), and queries per payment.
3. Counts the Python function calls of one payment (cProfile over 100 more): unlike CPU time,
   that figure does not move when other processes share the cores. With --profile, prints that
   profile's top functions (--sort tottime for own time; default cumulative).

Usage: .venv/bin/python benchmarks/profile_counter.py [payments] [--profile] [--sort tottime]
Database: BENCH_DATABASE_URL_COUNTERPROF (default .../gasworks_bench_counterprof), created and
migrated here."""

import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

from _setup import setup

os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "API_THROTTLE_USER": "1000000/minute"})


CALL_SAMPLE = 100  # payments run under cProfile to count calls


def _backend_cpu(connection) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 300
    sort = sys.argv[sys.argv.index("--sort") + 1] if "--sort" in sys.argv else "cumulative"
    setup("counterprof")

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from gasworks.wsgi import application
    from tests.factories import make_customer, make_user

    run = uuid.uuid4().hex[:6]
    customers = [make_customer(name=f"剖析{run}{i}") for i in range(20)]
    token = Token.objects.create(user=make_user("cashier", username=f"prof{run}")).key

    def environ(i: int) -> dict:
        body = json.dumps(
            {
                "customer": customers[i % len(customers)].pk,
                "amount": "35.50",
                "method": "cash",
                "tendered": "50",
            }
        ).encode()
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/payments/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "HTTP_IDEMPOTENCY_KEY": f"{run}-{i}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def pay(i: int) -> None:
        status = []
        chunks = application(environ(i), lambda s, h, exc=None: status.append(s))
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not status[0].startswith("201"):
            raise SystemExit(f"payment {i}: {status[0]} {body[:300]!r}")

    for i in range(len(customers)):  # warm-up: shift, accounts, imports, caches
        pay(i)

    with CaptureQueriesContext(connection) as queries:
        pay(len(customers))
    print(f"one counter payment: {len(queries)} queries")
    for number, query in enumerate(queries, 1):
        print(f"  {number:2d}. {query['sql'][:150]}")

    import cProfile
    import pstats

    first = len(customers) + 1
    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        db0, cpu0, wall0 = _backend_cpu(connection), time.process_time(), time.perf_counter()
        for i in range(first, first + n):
            pay(i)
        cpu, wall, db = (
            time.process_time() - cpu0,
            time.perf_counter() - wall0,
            _backend_cpu(connection) - db0,
        )
    # Python function calls per payment: a deterministic proxy of the web side's CPU that other
    # processes on the machine cannot disturb (the CPU times above can: caches, frequency).
    first += n
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(first, first + CALL_SAMPLE):
        pay(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(
        f"{n} payments in-process: web cpu {cpu * 1000 / n:.2f} ms/payment, postgres backend cpu "
        f"{db * 1000 / n:.2f} ms/payment, wall {wall * 1000 / n:.2f} ms/payment, "
        f"{count[0] / n:.1f} queries/payment, {stats.total_calls / CALL_SAMPLE:.0f} Python calls/payment"
    )
    if "--profile" in sys.argv:
        stats.strip_dirs().sort_stats(sort).print_stats(60)


if __name__ == "__main__":
    main()
