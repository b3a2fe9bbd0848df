"""A PostgreSQL server configured for production, for the benchmarks at scale (``--server tuned``).

The machine's own server keeps PostgreSQL's defaults (128 MB of shared buffers, 1 GB of WAL
between checkpoints): right for the test suite, not what a gas company runs a million accounts
on. At a million accounts a billing run writes several GB of WAL, so with the defaults it pays a
checkpoint every few seconds and a full page image for every page it touches after each; the
figures then measure the configuration more than the code. ``--server tuned`` starts a
throwaway server from the machine's PostgreSQL programs (initdb in a temporary folder, a free
port) with the settings docs/deploy.md gives for the primary, scaled to this machine's memory;
fsync and synchronous commit stay on. It is stopped and removed when the benchmark ends.

    .venv/bin/python benchmarks/bench_notifications.py --part billing --accounts 1000000 --server tuned
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.system.standby import bindir, free_port


# docs/deploy.md, "PostgreSQL settings of the primary": a quarter of the memory for shared
# buffers (at most 8 GB here), room for a run's WAL between checkpoints, WAL pages compressed.
def settings(memory_gb: int) -> dict[str, str]:
    buffers = max(1, min(8, memory_gb // 4))
    return {
        "shared_buffers": f"{buffers}GB",
        "effective_cache_size": f"{max(1, memory_gb * 3 // 4)}GB",
        "maintenance_work_mem": "1GB",
        "work_mem": "64MB",
        "max_wal_size": "16GB",
        "min_wal_size": "2GB",
        "checkpoint_timeout": "30min",
        "checkpoint_completion_target": "0.9",
        "wal_buffers": "64MB",
        "wal_compression": "lz4",
        "random_page_cost": "1.1",
    }


def _memory_gb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30


def start(database: str) -> str:
    """Start the tuned server; the URL of ``database`` on it (created on first use by the caller)."""
    tools = bindir()
    if tools is None:
        sys.exit("--server tuned needs the PostgreSQL programs (initdb, pg_ctl): none found")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="gasworks-bench-pg-", dir="/var/tmp"))
    if as_pg:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()

    def run(*command):
        subprocess.run([*as_pg, *command], check=True, capture_output=True, text=True, timeout=300)

    run(str(tools / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
    chosen = settings(_memory_gb())
    with open(data / "postgresql.conf", "a") as conf:
        conf.writelines(f"{name} = '{value}'\n" for name, value in chosen.items())
    run(str(tools / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "120",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")  # fmt: skip

    def stop():
        subprocess.run([*as_pg, str(tools / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    # A benchmark stopped by SIGTERM (kill, a CI timeout) still stops its server: exit, so that
    # atexit runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("tuned PostgreSQL server: " + ", ".join(f"{k} {v}" for k, v in chosen.items()))
    return f"postgres://postgres@127.0.0.1:{port}/{database}"


def from_argv(database: str) -> None:
    """Before the benchmark imports what reads BENCH_DATABASE_URL: with ``--server tuned`` on the
    command line, point it at a tuned server of its own."""
    argv = sys.argv
    for i, arg in enumerate(argv):
        if (arg == "--server" and i + 1 < len(argv) and argv[i + 1] == "tuned") or arg == "--server=tuned":
            os.environ["BENCH_DATABASE_URL"] = start(database)
            return


def add_argument(parser) -> None:
    parser.add_argument(
        "--server",
        choices=("machine", "tuned"),
        default="machine",
        help="the machine's PostgreSQL (default) or a throwaway one with docs/deploy.md's settings",
    )
