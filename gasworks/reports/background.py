"""Exports too long to wait for: written in the background, with progress, the file kept for its
owner.

An export of more rows than the `export_background_rows` parameter (a report says how many with
`Report.count`) is an `Export` row: `start_export` records it and, once committed, hands it to a
Celery worker when REDIS_URL is set, else to a thread of this process. `run_export` streams the
report's rows into the file (XlsxWriter in constant-memory mode, or CSV line by line), noting the
rows written every 10,000 for the progress bar.

It may run twice for one export, one after the other or at once: Celery hands the task of a
worker killed mid-file to another (`acks_late`, after the broker's visibility timeout), and
`resume_stalled` (beat, every minute) sends again an export whose run has been silent for
`export_stall_seconds`. So a run first *claims* the export (its name and the time, on the row,
under the row's lock), notes a sign of life with each progress note, and writes to a partial file
of its own; the run that still holds the claim at the end renames its file into place and marks
the export done in one transaction under the row's lock. The partial file is local to the run
(a temporary folder) and the finished file is stored in Django's default storage (the object
store when one is configured, so a web node on another machine than the worker serves it). A run that finds the export claimed by a run still alive leaves it alone; a run whose
claim was taken over stops at its next note. So an export ends with one file and one "done", never
"running" for ever. Without REDIS_URL no beat runs `resume_stalled`: asking for an export and
viewing the exports' pages do (`resume_stalled_here`). Files older than `export_keep_days` are
deleted daily (beat, with REDIS_URL) and whenever an export starts (without it).
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gasworks.lib import replicas
from gasworks.reports import export as files
from gasworks.reports.framework import REPORTS, Params, Report, parse_params
from gasworks.reports.models import Export, ExportStatus
from gasworks.system import parameters
from gasworks.system.parameters import Spec

log = logging.getLogger("gasworks.reports")

parameters.GROUP_LABELS.setdefault("reports", _("Reports"))
parameters.register(
    Spec(
        "export_background_rows",
        int,
        10_000,
        _("Exports of more rows than this are written in the background"),
        "reports",
        Decimal("1"),
    ),
    Spec(
        "export_keep_days",
        int,
        7,
        _("Days a background export's file is kept for its owner"),
        "reports",
        Decimal("1"),
    ),
    Spec(
        "export_stall_seconds",
        int,
        600,
        _(
            "A background export silent for this many seconds is taken over by another worker "
            "(the one writing it died)"
        ),
        "reports",
        Decimal("1"),
    ),
)

BEAT_SCHEDULE = {
    "reports-delete-old-exports": {
        "task": "gasworks.reports.delete_old_exports",
        "schedule": crontab(hour=3, minute=30),
    },
    "reports-resume-stalled-exports": {
        "task": "gasworks.reports.resume_stalled_exports",
        "schedule": 60.0,
    },
}


class TakenOver(Exception):
    """This run's claim on the export was taken over (it was silent too long): it stops."""


def stall_after() -> timedelta:
    return timedelta(seconds=int(parameters.get("export_stall_seconds")))


# The folder of the default storage the files wait in; an export's `file` is its name there.
FOLDER = "exports"


def needs_background(report: Report, params: Params) -> bool:
    count = report.count(params)
    return count is not None and count > parameters.get("export_background_rows")


def file_name(report: Report, params: Params, fmt: str) -> str:
    """What the downloaded file is called: the report and its range."""
    stamp = params.query(report)
    name = f"{report.name}-{stamp.get('from') or stamp.get('as_of') or ''}-{stamp.get('to') or ''}".rstrip(
        "-"
    )
    return f"{name}.{fmt}"


def start_export(user, report: Report, params: Params, fmt: str) -> Export:
    """Record an export of `report` for `user` and start it once the row is committed. The same
    export asked for again while it is still queued or running is that one (an API client
    repeating its GET, a double click), not a second file."""
    if fmt not in ("xlsx", "csv"):
        raise ValueError(fmt)
    delete_old_exports()
    resume_stalled_here()
    same = {
        "user": user,
        "report": report.name,
        "params": params.query(report),
        "format": fmt,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
    }
    unfinished = (ExportStatus.QUEUED, ExportStatus.RUNNING)
    pending = Export.objects.filter(status__in=unfinished, **same).order_by("-pk").first()
    if pending is not None:
        return pending
    export = Export.objects.create(**same, rows_total=report.count(params) or 0)
    transaction.on_commit(lambda: dispatch(export.pk))
    return export


def in_threads() -> bool:
    """Whether exports run in this process's threads (no REDIS_URL) rather than on Celery."""
    return not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER


def dispatch(export_id: int) -> None:
    if not in_threads():
        export_task.delay(export_id)
        return
    # Half a second late: the request that started it finishes its own writes (its session)
    # first, since SQLite lets one writer in at a time.
    thread = threading.Timer(0.5, _in_thread, args=(export_id,))
    thread.name, thread.daemon = f"export-{export_id}", True
    thread.start()
    THREADS.append(thread)


# Threads started by this process (tests wait for them; nothing else reads this).
THREADS: list[threading.Thread] = []  # (Timers)


def _in_thread(export_id: int) -> None:
    try:
        run_export(export_id)
    finally:
        connection.close()  # the thread's own connection


def _retrying(action, attempts: int = 20):
    """Run a short write again when the database says it is locked: SQLite lets one writer in at
    a time, and a thread's progress note must not fail the export (nor a failed export stay
    "running" because noting the failure met the lock)."""
    for attempt in range(attempts):
        try:
            return action()
        except OperationalError as exc:
            # SQLite's "database is locked"; any other database error is not ours to wait out.
            if attempt == attempts - 1 or "locked" not in str(exc):
                raise
            time.sleep(min(0.05 * 2**attempt, 1.0))
    return None


def _update(export_id: int, claim: str, **values) -> int:
    """Write values on the export while `claim` still holds it; how many rows (0: taken over)."""
    with replicas.aside():  # progress notes: the export's reads stay where they were
        mine = Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING, claimed_by=claim)
        return _retrying(lambda: mine.update(**values)) or 0


def _claim(export_id: int, claim: str) -> tuple[Export | None, bool]:
    """(the export, whether this run now holds it): not when it is missing, done, or running
    under a claim that gave a sign of life within `export_stall_seconds`."""
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("user").filter(pk=export_id).first()
        if export is None or export.status == ExportStatus.DONE:
            return export, False
        now = timezone.now()
        alive = export.beat_at is not None and export.beat_at > now - stall_after()
        if export.status == ExportStatus.RUNNING and alive:
            return export, False
        export.status, export.rows_done, export.error = ExportStatus.RUNNING, 0, ""
        export.claimed_by, export.beat_at = claim, now
        export.save(update_fields=["status", "rows_done", "error", "claimed_by", "beat_at"])
    return export, True


def run_export(export_id: int, on_progress=None) -> Export | None:
    """Write the export's file; safe to call again for the same export, even at once (see the
    module doc). `on_progress(rows_done)` is called with each progress note (the benchmark's
    RSS probe)."""
    claim = f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    export, mine = _retrying(lambda: _claim(export_id, claim))
    if export is None or not mine:
        return export
    report = REPORTS.get(export.report)
    try:
        if report is None:
            raise LookupError(f"no report named {export.report!r}")
        # A task of its own: nothing written yet, so the report is read from a replica if any.
        with translation.override(export.language), replicas.fresh_request(), replicas.reporting():
            params = report.scope(export.user, parse_params(report, export.params))
            name = f"{FOLDER}/{export.pk}-{file_name(report, params, export.format)}"
            with tempfile.TemporaryDirectory(prefix="gasworks-export-") as folder:
                partial = Path(folder) / "export.part"
                written = _write(report, params, export, partial, claim, on_progress)
                _finish(export, claim, partial, name, written)
    except TakenOver:
        log.warning("export %s: taken over by another worker; this run stops", export_id)
    except Exception as exc:  # recorded for the user (a bad stored filter too); the worker goes on
        log.exception("export %s failed", export_id)
        _update(
            export_id,
            claim,
            status=ExportStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            beat_at=None,  # no run is on it any more
        )
    return Export.objects.get(pk=export_id)


def _finish(export: Export, claim: str, partial: Path, name: str, written: int) -> None:
    """Put the file in place and mark the export done, if this run still holds it: under the
    row's lock, so that of two runs one alone does it (the other raises TakenOver)."""

    def finish() -> None:
        with transaction.atomic():
            row = Export.objects.select_for_update().filter(pk=export.pk).first()
            if row is None or row.status != ExportStatus.RUNNING or row.claimed_by != claim:
                raise TakenOver
            # A rerun (a redelivered task) replaces what an earlier run stored, under the same name.
            default_storage.delete(name)
            with open(partial, "rb") as handle:
                stored = default_storage.save(name, File(handle))
            row.status, row.file, row.rows_done = ExportStatus.DONE, stored, written
            row.rows_total, row.finished_at = max(written, export.rows_total), timezone.now()
            row.save(update_fields=["status", "file", "rows_done", "rows_total", "finished_at"])

    with replicas.aside():
        _retrying(finish)


def _write(
    report: Report, params: Params, export: Export, partial: Path, claim: str, on_progress=None
) -> int:
    """Stream the rows into `partial`; raises TakenOver at a progress note when the export is
    no longer this run's."""

    def progress(done: int) -> None:
        if not _update(export.pk, claim, rows_done=done, beat_at=timezone.now()):
            raise TakenOver
        if on_progress:
            on_progress(done)

    result = report.run(params)  # the columns and totals (a list report's run is one page)
    rows = report.rows(params) if report.count(params) is not None else result.rows
    if export.format == "xlsx":
        count = files.write_xlsx(report, params, result.columns, rows, result.total, str(partial), progress)
    else:
        count = 0

        def counted():
            nonlocal count
            for row in rows:
                count += 1
                if count % 10_000 == 0:
                    progress(count)
                yield row

        with open(partial, "w", encoding="utf-8", newline="") as handle:
            for line in files.csv_lines(result.columns, counted(), result.total):
                handle.write(line)
    return count


def stored_name(export: Export) -> str | None:
    """The name of the export's file in the default storage; None before it is done or once
    it was deleted."""
    if export.status != ExportStatus.DONE or not export.file:
        return None
    return export.file if default_storage.exists(export.file) else None


def download_name(export: Export) -> str:
    """What the downloaded file is called: the stored name without its folder and export id."""
    return export.file.rsplit("/", 1)[-1].split("-", 1)[-1]


def delete_old_exports(now=None) -> int:
    """Delete the exports (rows and files) older than `export_keep_days`; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=parameters.get("export_keep_days"))
    old = list(Export.objects.filter(created_at__lt=cutoff).values_list("pk", "file"))
    for _pk, name in old:
        if name:
            default_storage.delete(name)
    Export.objects.filter(pk__in=[pk for pk, _name in old]).delete()
    return len(old)


@shared_task(name="gasworks.reports.export", acks_late=True)
def export_task(export_id: int) -> str:
    export = run_export(export_id)
    return export.status if export else "missing"


def resume_stalled(now=None) -> list[int]:
    """Start again the exports whose run has been silent for `export_stall_seconds` (its worker
    died: Celery would hand its task on only after the broker's visibility timeout, an hour by
    default) and those queued that long (their task was lost). Sending one twice is harmless:
    the claim makes the second a no-op. Returns the exports' ids."""
    cutoff = (now or timezone.now()) - stall_after()
    silent = Q(status=ExportStatus.RUNNING) & (Q(beat_at__lt=cutoff) | Q(beat_at=None, created_at__lt=cutoff))
    waiting = Q(status=ExportStatus.QUEUED, created_at__lt=cutoff)
    ids = list(Export.objects.filter(silent | waiting).order_by("pk").values_list("pk", flat=True))
    for export_id in ids:
        dispatch(export_id)
    return ids


def resume_stalled_here() -> list[int]:
    """resume_stalled where no beat runs it: without REDIS_URL an export is a thread of a web
    process, and one that died with its process (a restart, a deploy, a killed worker) would
    stay "running" for ever. So asking for an export, the exports' list and an export's page
    (where its owner waits for it), and the API's status of one, resume the stalled ones first:
    one look at a short table (exports are kept export_keep_days). With Celery, beat does it
    every minute and this does nothing."""
    return resume_stalled() if in_threads() else []


@shared_task(name="gasworks.reports.delete_old_exports")
def delete_old_exports_task() -> int:
    return delete_old_exports()


@shared_task(name="gasworks.reports.resume_stalled_exports")
def resume_stalled_task() -> list[int]:
    return resume_stalled()
