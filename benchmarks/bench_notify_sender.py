"""Notifications benchmark on PostgreSQL, in named parts (`--part`).

sender: N customers (generated in PostgreSQL) each get one low-balance SMS, queued through the
outbox; the sender then delivers them, rounds of --batch, through the real provider SDK to a
local HTTP stand-in of the provider running in a process of its own (tests/notifications/
stub_provider.py). Only SMS rows are left queued (the portal's rows are removed), so every message
counted crossed HTTP. Prints messages/s and the CPU per message of the senders (getrusage), of
the stub and of their PostgreSQL backends (/proc: a server on this machine), so that a figure
taken on a shared machine can be read as messages per CPU-second too. Never asserts on time.

Aliyun's SendBatchSms takes 100 numbers a request, each with its own template parameters, so a
round of 500 bills is 5 requests; Tencent's SendSms takes 200 numbers but one parameter set, so
per-customer messages go one a request (`--provider tencent` shows what that costs).

    .venv/bin/python benchmarks/bench_notify_sender.py --part sender --messages 20000
    .venv/bin/python benchmarks/bench_notify_sender.py --part sender --messages 20000 --senders 2
    .venv/bin/python benchmarks/bench_notify_sender.py --part sender --provider tencent --messages 2000
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_notifications")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
os.environ.pop("REDIS_URL", None)  # in-process: one machine, measured as such
os.environ["NOTIFY_SEND_INLINE"] = "0"  # the sender is what is measured, not the enqueuing commit

from benchmarks.bench_billing import ensure_database  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_stub() -> tuple[subprocess.Popen, str]:
    stub = subprocess.Popen(
        [sys.executable, "-m", "tests.notifications.stub_provider"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert stub.stdout is not None
    return stub, stub.stdout.readline().strip()


def configure(provider: str, endpoint: str) -> None:
    os.environ.update(
        {
            "NOTIFY_SMS_PROVIDER": provider,
            "ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-bench",
            "ALIYUN_SMS_ACCESS_KEY_SECRET": "bench",
            "ALIYUN_SMS_SIGN_NAME": "燃气公司",
            "ALIYUN_SMS_TEMPLATES": "low_balance=SMS_100001",
            "ALIYUN_SMS_ENDPOINT": f"http://{endpoint}",
            "TENCENT_SMS_SECRET_ID": "AKID-bench",
            "TENCENT_SMS_SECRET_KEY": "bench",
            "TENCENT_SMS_APP_ID": "1400000001",
            "TENCENT_SMS_SIGN_NAME": "燃气公司",
            "TENCENT_SMS_TEMPLATES": "low_balance=200001",
            "TENCENT_SMS_ENDPOINT": f"http://{endpoint}",
        }
    )


def customers(n: int) -> None:
    """N premises and customers with phones, generated inside PostgreSQL (INSERT ... SELECT)."""
    from django.db import connection, transaction
    from django.utils import timezone

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "TRUNCATE notifications_message, customers_customer, customers_premises RESTART IDENTITY CASCADE"
        )
        cur.execute(
            """INSERT INTO customers_premises (id, address, district, created_at)
            SELECT i, '北京市朝阳区基准路' || i || '号', '朝阳区', %(now)s FROM generate_series(1, %(n)s) AS i""",
            {"n": n, "now": timezone.now()},
        )
        cur.execute(
            """INSERT INTO customers_customer (id, account_no, name, category, gas_use, phone, premises_id,
                household_size, status, id_number, opened_on, created_at, updated_at)
            SELECT i, 'B' || lpad(i::text, 9, '0'), '用户' || i, 'residential', 'cooking',
                '139' || lpad(i::text, 8, '0'), i, 3, 'active', '', DATE '2024-01-01', %(now)s, %(now)s
            FROM generate_series(1, %(n)s) AS i""",
            {"n": n, "now": timezone.now()},
        )
        for table in ("customers_premises", "customers_customer"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cur.execute("ANALYZE")


def queue(n: int) -> int:
    """One low-balance notice per customer, through the outbox (at 10:00 yesterday: outside the
    quiet hours, due now); the portal's copies are removed."""
    from django.db import transaction
    from django.utils import timezone

    from gasworks.lib.dates import start_of_day
    from gasworks.notifications import outbox
    from gasworks.notifications.models import Message

    at = start_of_day(timezone.localdate() - timedelta(days=1)) + timedelta(hours=10)
    Message.objects.all().delete()
    for start in range(1, n + 1, 5000):
        with transaction.atomic():
            outbox.enqueue(
                "low_balance",
                [
                    (f"bench:{i}", i, {"balance": f"{i % 50}.00"})
                    for i in range(start, min(n, start + 4999) + 1)
                ],
                at=at,
            )
    Message.objects.filter(channel="portal").delete()
    return Message.objects.filter(channel="sms", status="queued").count()


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (a server on this machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send_all(batch: int) -> tuple[int, float, float]:
    """Send rounds until none is left; (rounds, CPU seconds of this process, of its backend)."""
    from gasworks.notifications import sender

    cpu, db, rounds = cpu_seconds(), backend_cpu(), 0
    while any(sender.send_due(limit=batch).values()):
        rounds += 1
    return rounds, cpu_seconds() - cpu, backend_cpu() - db


def worker(args) -> None:
    """One of --senders processes (as `send_notifications --loop` would run several)."""
    import django

    django.setup()
    configure(args.provider, args.endpoint)
    from gasworks.notifications import sender

    sender.send_due(limit=1)  # warm: the SDK's client and its connection
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # go
    rounds, cpu, db = send_all(args.batch)
    print(rounds, cpu, db, flush=True)


def sender_part(args) -> None:
    import django

    ensure_database()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    customers(args.messages)
    from gasworks.notifications.models import Message

    stub, endpoint = start_stub()
    try:
        configure(args.provider, endpoint)
        queued = queue(args.messages)
        command = [sys.executable, __file__, "--worker", "--endpoint", endpoint, "--batch", str(args.batch)]
        command += ["--provider", args.provider]
        workers = [
            subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(args.senders)
        ]
        for process in workers:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=3600)[0].split() for process in workers]
        elapsed = time.perf_counter() - started
    finally:
        stub.terminate()
        _out, err = stub.communicate(timeout=10)
    stub_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    rounds = sum(int(r[0]) for r in results)
    cpu = sum(float(r[1]) for r in results)
    db = sum(float(r[2]) for r in results)
    sent = Message.objects.filter(channel="sms", status="sent").count()
    print(
        f"provider {args.provider}, {args.senders} sender(s), batch {args.batch}:"
        f" {queued} SMS queued, {sent} sent in {rounds} rounds (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  {sent / elapsed:,.0f} messages/s ({elapsed:.2f} s)")
    print(f"  senders' CPU {cpu * 1e6 / max(sent, 1):,.0f} µs per message ({cpu:.2f} s)")
    total_children = stub_cpu.ru_utime + stub_cpu.ru_stime - cpu
    print(f"  stub's CPU {total_children * 1e6 / max(sent, 1):,.0f} µs per message")
    print(f"  PostgreSQL backends' CPU {db * 1e6 / max(sent, 1):,.0f} µs per message ({db:.2f} s)")
    whole = cpu + db + total_children
    print(
        f"  all CPU {whole * 1e6 / max(sent, 1):,.0f} µs per message: {sent / whole:,.0f} messages per CPU-second"
    )
    print(f"  stub received {err.strip().splitlines()[-1] if err.strip() else '?'} deliveries")


PARTS = {"sender": sender_part}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--part", choices=sorted(PARTS), action="append", help="the parts to run (all by default)"
    )
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--provider", choices=["aliyun", "tencent"], default="aliyun")
    parser.add_argument(
        "--senders", type=int, default=1, help="sender processes (SKIP LOCKED shares the queue)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    for part in args.part or sorted(PARTS):
        PARTS[part](args)


if __name__ == "__main__":
    main()
