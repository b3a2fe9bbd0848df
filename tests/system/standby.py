"""A real PostgreSQL hot standby for the replica test, made from the machine's PostgreSQL
binaries: a primary (initdb) on a free port with the test database's schema and rows
(pg_dump), and a standby of it (pg_basebackup -R, streaming) on another port, both in a
temporary folder, stopped and removed afterwards. The machine's own server is only read
(pg_dump); its configuration is never touched."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "pg_dump", "psql")


def bindir() -> Path | None:
    """The folder of the machine's PostgreSQL programs, or None when they are missing."""
    candidates = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.insert(0, Path(on_path).resolve().parent)
    return next((d for d in candidates if all((d / tool).exists() for tool in TOOLS)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Pair:
    folder: Path
    primary_port: int
    standby_port: int
    database: str = "gasworks"

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}"


class Standby:
    def __init__(self, tools: Path):
        self.tools = tools
        # PostgreSQL refuses to run as root: as root, its programs run as the postgres user.
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.folder = Path(tempfile.mkdtemp(prefix="gasworks-standby-"))
        if self.as_pg:
            shutil.chown(self.folder, "postgres", "postgres")
        self.pair = Pair(self.folder, free_port(), free_port())

    def _run(self, tool: str, *args: str, as_pg: bool = True, **kwargs) -> subprocess.CompletedProcess:
        command = [*(self.as_pg if as_pg else []), str(self.tools / tool), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=300, **kwargs)

    def _start(self, data: Path, port: int) -> None:
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / f"{data.name}.log"), "-w", "-t", "120",
                  "-o", f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")  # fmt: skip

    def start(self, source: dict) -> Pair:
        """Primary with `source`'s database (Django settings_dict) copied in, then its standby."""
        primary, standby = self.folder / "primary", self.folder / "standby"
        self._run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        with open(primary / "postgresql.conf", "a") as conf:
            # Throwaway data: no fsync. A standby streams the WAL and answers reads meanwhile.
            conf.write("wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nfsync = off\n")
        self._start(primary, self.pair.primary_port)
        port = str(self.pair.primary_port)
        self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-qc",
            f"CREATE DATABASE {self.pair.database}",
        )
        dump = self._run(
            "pg_dump", "-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432),
            "-U", source["USER"], "--no-owner", "--no-privileges", source["NAME"], as_pg=False,
            env={**os.environ, "PGPASSWORD": source["PASSWORD"] or ""},
        ).stdout  # fmt: skip
        self._run("psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1",
                  "-d", self.pair.database, input=dump)  # fmt: skip
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-D", str(standby),
                  "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        self._start(standby, self.pair.standby_port)
        self._wait_in_recovery()
        return self.pair

    def _wait_in_recovery(self) -> None:
        url = self.pair.url(self.pair.standby_port).replace("postgres://", "postgresql://", 1)
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(url, connect_timeout=3) as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,):
                        return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def stop(self) -> None:
        for data in ("standby", "primary"):
            if (self.folder / data / "postmaster.pid").exists():
                subprocess.run([*self.as_pg, str(self.tools / "pg_ctl"), "-D", str(self.folder / data),
                                "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.folder.glob("*.log")))
