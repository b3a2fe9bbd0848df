"""Recording a fill on PostgreSQL with many cylinders registered.

    .venv/bin/python benchmarks/bench_cylinders.py [cylinders=500000] [fills=500]

COPYs the cylinders straight in (registration is not what is measured), then times N fills
through services.record_filling (lock, interlock, Filling row, status move, event) and prints
p50/p95/max. Target in issue 6: p95 ≤ 50 ms.
"""

import os
import sys
import time
from pathlib import Path

from _setup import percentile  # nearest rank, as every benchmark here

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gasworks_bench_cylinders")
os.environ["DATABASE_URL"] = URL


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load_cylinders(size: int) -> None:
    import datetime

    from django.db import connection
    from django.utils import timezone

    from gasworks.cylinders.models import Cylinder
    from gasworks.cylinders.services import home_station

    station = home_station()
    have = Cylinder.objects.filter(code__startswith="B").count()
    if have >= size:
        print(f"cylinders already loaded: {have}")
        return
    today = timezone.localdate()
    now = timezone.now().isoformat()
    made = (today - datetime.timedelta(days=700)).isoformat()
    due = (today + datetime.timedelta(days=2000)).isoformat()
    scrap = (today + datetime.timedelta(days=3600)).isoformat()
    started = time.perf_counter()
    columns = "code, model, tare_kg, rated_fill_kg, maker, manufactured_on, standard, next_inspection_on, scrap_on, owner_id, status, created_at"
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY cylinders_cylinder ({columns}) FROM STDIN") as copy,
    ):
        for n in range(have, size):
            copy.write_row(
                (
                    f"B{n:08d}",
                    "YSP35.5",
                    "15.200",
                    "14.500",
                    "bench",
                    made,
                    "GB5842-2006",
                    due,
                    scrap,
                    station.pk,
                    "empty_in_station",
                    now,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cylinders_cylinder")
    print(f"copied {size - have} cylinders in {time.perf_counter() - started:.1f} s")


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    fills = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    ensure_database(URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load_cylinders(size)

    import random
    from decimal import Decimal

    from gasworks.cylinders import services
    from gasworks.cylinders.models import Cylinder

    empties = list(
        Cylinder.objects.filter(code__startswith="B", status="empty_in_station").values_list(
            "code", flat=True
        )[: fills * 20]
    )
    if len(empties) < fills:
        sys.exit(f"only {len(empties)} empty bench cylinders left; drop the database to start again")
    picked = random.Random(5).sample(empties, fills)
    station = services.home_station()
    timings = []
    for code in picked:
        started = time.perf_counter()
        services.record_filling(code, Decimal("29.450"), scale_id="BENCH", station=station)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    total = Cylinder.objects.count()
    print(f"cylinders in table: {total}")
    print(f"fills timed: {fills}")
    print(f"record_filling p50: {p50:.2f} ms")
    print(f"record_filling p95: {p95:.2f} ms")
    print(f"record_filling max: {timings[-1]:.2f} ms")


if __name__ == "__main__":
    main()
