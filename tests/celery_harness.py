"""Real Celery workers for kill tests: `celery_workers` (a fixture) points this process's Celery
app at a queue of the test's own on the machine's Redis and starts worker processes
(tests/celery_worker.py: the project's worker, prefork pool) on it. A worker stops at the point
the test names (`stall=`, see STALLS in tests/celery_worker.py), writing its name to a mark file,
so that the test can kill it there with SIGKILL, whole (its pool's children too), and check what
another worker, or a second delivery, makes of the work it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from gasworks.celery import app
from tests.services import database_url, require_redis


def _new_connections() -> None:
    """Forget the broker connections made under the old settings (the next send opens new)."""
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(condition, seconds: float, what: str):
    """The condition's first true value, polled every 0.1 s; an AssertionError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Workers:
    def __init__(self, url: str, queue: str, folder: Path):
        self.url, self.queue, self.mark = url, queue, folder / "stalled"
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, stall: str = "", **env: str) -> subprocess.Popen:
        """A worker process named `name` on the test's queue; `stall` names where the first
        worker to get there stops (one stop in all); `env` adds variables (read when the worker
        starts, so a variable set by the test before this call reaches it too)."""
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "tests.celery_worker", name],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                "DATABASE_URL": database_url(),
                "REDIS_URL": self.url,
                "CELERY_QUEUE": self.queue,
                "STALL": stall,
                "STALL_MARK": str(self.mark),
                "PYTHONUNBUFFERED": "1",
                **env,
            },
            start_new_session=True,  # its own process group: the pool's children die with it
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.processes[name]

    def stalled(self, seconds: float = 120) -> str:
        """The name of the worker that stopped at the stall point (waits for one)."""
        return wait_for(lambda: self.mark.exists() and self.mark.read_text(), seconds, "a worker to stall")

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool, as the machine losing it would."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def kill_pool_process(self) -> None:
        """SIGKILL only the pool process that stalled (the kernel's OOM killer's way): its
        worker sees it lost and hands the task back to the queue (REJECT_ON_WORKER_LOST)."""
        pid = wait_for(lambda: self.mark.with_name("stalled.pid").is_file() and self.pid(), 30, "its pid")
        os.kill(pid, signal.SIGKILL)

    def pid(self) -> int:
        text = self.mark.with_name("stalled.pid").read_text()
        return int(text) if text else 0

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def celery_workers(tmp_path):
    """This process sends tasks to a queue of its own on the machine's Redis (not eager);
    yields a Workers that starts worker processes on it, and kills those left at the end."""
    url = require_redis()
    queue = f"gasworks-test-{uuid.uuid4().hex[:10]}"
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    _new_connections()
    workers = Workers(url, queue, tmp_path)
    try:
        with override_settings(REDIS_URL=url, CELERY_TASK_ALWAYS_EAGER=False):
            yield workers
    finally:
        workers.stop_all()
        app.conf.update(saved)
        _new_connections()
