"""Report p95 on a read replica (issue 16 §6): every registered report's page and API over a
full year, read from a real PostgreSQL hot standby, against the same read from the primary.

    .venv/bin/python benchmarks/bench_reports.py --replica                       # 20,000 customers
    .venv/bin/python benchmarks/bench_reports.py --replica --customers 50000 --runs 9 --rounds 2

The history database (bench_reports' own, BENCH_DATABASE_URL_HISTORY; generated with
generate_data when empty) gets its rollups and arrears snapshot refreshed, as the nightly jobs
do. Then tests/system/standby.py's harness copies it into a primary of its own (initdb on a free
port, pg_dump) and starts a streaming hot standby of that (pg_basebackup), both from the
machine's PostgreSQL programs in a temporary folder, stopped and removed at the end. Each report
is measured in passes, each a process of its own against that primary: with
DATABASE_REPLICA_URLS empty (everything on the primary), or pointing at the standby (the pages
and API read there, as in production); --rounds of both, taken in turn. Printed: p50/p95 of each, the p95 ratio replica/primary, and each server's
transactions and rows read during each pass (pg_stat_database), which show where the reads went.

Both servers run on this machine with the same settings (shared_buffers 128 MB, fsync off), so
the ratio is what the router and a standby's recovery state cost a report, not what a replica on
its own machine adds in capacity (that is the point of one: the primary's cores stay for
payments and billing). Never asserts on time."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import percentile  # noqa: E402

DATABASE = "gasworks"  # the name tests/system/standby.py gives the copied database
MARK = "FIGURES "


def prepare() -> None:
    """What the nightly jobs leave for the reports (rollups, arrears snapshot), and the user the
    passes log in as: written now, on the source, so that the copy has them."""
    from bench_reports import _client
    from django.utils import timezone

    from gasworks.billing import arrears
    from gasworks.lib import partitions
    from gasworks.reports import rollups

    started = time.perf_counter()
    # The generated history lands in the lower edge partition; the daily upkeep gives its
    # months their partitions, as a station's would have them.
    upkeep = partitions.maintain(ahead=3, detach_older_than=0, today=timezone.localdate())
    created = sum(len(u.created) for u in upkeep)
    print(f"partitions: {created} month(s) made in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rollups.refresh(full=True)
    arrears.refresh()
    _client()
    print(f"rollups and arrears snapshot refreshed in {time.perf_counter() - started:.1f} s")


def server_reads(url: str) -> tuple[int, int]:
    """(transactions, rows returned + fetched) of the benchmark's database on one server so
    far. A server's statistics count what ran on that server only: a standby's are its own."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database"
            " WHERE datname = %s",
            [DATABASE],
        ).fetchone()
    return int(row[0]), int(row[1])


def settle(primary: str, replica: str) -> None:
    """VACUUM ANALYZE the copied database and wait for the standby to replay it: a fresh copy
    has no statistics, and autovacuum catching up meanwhile read hundreds of millions of rows on
    the primary during the first pass (a 5.7 s p95 at 50,000 customers), which no station has."""
    import psycopg

    def connect(url):
        return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)

    with connect(primary) as conn:
        conn.execute("VACUUM (ANALYZE)")
        (lsn,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    with connect(replica) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s", [lsn]).fetchone()[0]:
            time.sleep(0.2)


def one_pass(primary: str, replica: str, runs: int) -> tuple[dict, dict[str, tuple[int, int]]]:
    """The reports measured by a process of its own at ``primary`` with DATABASE_REPLICA_URLS
    ``replica`` (empty: none); its figures and each server's (transactions, rows) meanwhile."""
    servers = {"primary": primary, "standby": replica or os.environ["BENCH_STANDBY_URL"]}
    before = {name: server_reads(url) for name, url in servers.items()}
    env = {**os.environ, "DATABASE_URL": primary, "DATABASE_REPLICA_URLS": replica, "REDIS_URL": ""}
    env.pop("BENCH_STANDBY_URL", None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--runs", str(runs)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    figures = json.loads(
        next(line for line in done.stdout.splitlines() if line.startswith(MARK))[len(MARK) :]
    )
    time.sleep(1)  # the pass's server processes have ended: their statistics are in
    after = {name: server_reads(url) for name, url in servers.items()}
    # Minus this function's own look (one transaction on each server).
    moved = {
        name: (after[name][0] - before[name][0] - 1, after[name][1] - before[name][1]) for name in servers
    }
    return figures, moved


def child(runs: int) -> None:
    """In the pass's process: Django at the pass's primary (and replica), every report's page
    and API measured; the figures printed as one JSON line."""
    sys.path.insert(0, str(ROOT))
    os.environ.update({"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "ALLOWED_HOSTS": "testserver"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gasworks.settings")
    import django

    django.setup()
    import logging

    from bench_reports import measure_all
    from django.db import connections
    from django.utils import timezone

    from gasworks.lib import replicas
    from gasworks.reports.framework import REPORTS

    logging.getLogger("django.request").setLevel(logging.ERROR)
    print(f"replicas: {replicas.aliases() or 'none'}", file=sys.stderr)
    figures = measure_all(REPORTS, runs, timezone.localdate(), run_too=False)
    connections.close_all()
    print(MARK + json.dumps(figures))


def table(on_primary: dict, on_replica: dict) -> None:
    print(f"ms, p50 / p95; ratio: p95 on the replica / p95 on the primary ({len(on_primary)} reports)")
    print(f"{'report':18} {'page primary':>15} {'page replica':>15} {'ratio':>6} "
          f"{'api primary':>15} {'api replica':>15} {'ratio':>6}")  # fmt: skip
    ratios = []
    for name in sorted(on_primary):
        cells = []
        for kind in ("page", "api"):
            a, b = on_primary[name][kind], on_replica[name][kind]
            ratio = percentile(b, 95) / percentile(a, 95)
            ratios.append(ratio)
            cells.append(
                f"{percentile(a, 50):7.1f}/{percentile(a, 95):7.1f} "
                f"{percentile(b, 50):7.1f}/{percentile(b, 95):7.1f} {ratio:5.2f}x"
            )
        print(f"{name:18} {' '.join(cells)}")
    ratios.sort()
    print(f"p95 ratio replica/primary over every page and API: median {ratios[len(ratios) // 2]:.2f}x, "
          f"range {ratios[0]:.2f}x to {ratios[-1]:.2f}x")  # fmt: skip


def run(args) -> None:
    """The --replica mode of bench_reports: Django is set up on the history database already."""
    from django.db import connection, connections

    from tests.system.standby import Standby, bindir

    prepare()
    tools = bindir()
    if tools is None:
        print("no PostgreSQL server programs (initdb, pg_ctl, pg_basebackup) here: nothing measured")
        return
    source = dict(connection.settings_dict)
    connections.close_all()
    standby = Standby(tools)
    try:
        started = time.perf_counter()
        pair = standby.start(source)
        print(f"primary (port {pair.primary_port}) and hot standby (port {pair.standby_port}) from"
              f" {tools}: copied and started in {time.perf_counter() - started:.0f} s")  # fmt: skip
        primary, replica = pair.url(pair.primary_port), pair.url(pair.standby_port)
        started = time.perf_counter()
        settle(primary, replica)
        print(
            f"VACUUM ANALYZE on the primary, replayed by the standby: {time.perf_counter() - started:.0f} s"
        )
        os.environ["BENCH_STANDBY_URL"] = replica
        results: dict[str, dict] = {"primary": {}, "replica": {}}
        reads: dict[str, dict] = {}
        # Passes taken in turn (primary, replica, replica, primary, ...): neither side always
        # runs first with the colder cache; each report's samples of one side pooled.
        order = [("primary", ""), ("replica", replica)]
        for round_ in range(args.rounds):
            for mode, replicas in order if round_ % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                figures, reads[mode] = one_pass(primary, replicas, args.runs)
                for name, kinds in figures.items():
                    for kind, samples in kinds.items():
                        results[mode].setdefault(name, {}).setdefault(kind, []).extend(samples)
                print(f"pass {round_ + 1} with {'DATABASE_REPLICA_URLS at the standby' if replicas else 'no replica'}:"
                      f" {time.perf_counter() - started:.0f} s; transactions / rows read on the primary"
                      f" {reads[mode]['primary'][0]:,} / {reads[mode]['primary'][1]:,}, on the standby"
                      f" {reads[mode]['standby'][0]:,} / {reads[mode]['standby'][1]:,}")  # fmt: skip
        print("(with the standby, the primary still answers each request's session and user)")
        table(results["primary"], results["replica"])
        on_standby = reads["replica"]["standby"][1] > 10 * max(reads["replica"]["primary"][1], 1)
        print(
            "reads went to the standby: "
            + ("yes" if on_standby else "NO (the standby read no more than the primary: check the router)")
        )
    except subprocess.CalledProcessError as failed:
        print(failed.stderr or failed.stdout, standby.log(), sep="\n")
        raise
    finally:
        standby.stop()


if __name__ == "__main__" and "--child" in sys.argv:
    child(int(sys.argv[sys.argv.index("--runs") + 1]))
