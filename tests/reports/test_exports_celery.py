"""A background export on two real Celery workers (processes, the machine's Redis, PostgreSQL):
the worker writing the file is killed with SIGKILL half-way through it; beat's resume_stalled
sends the export again once its run has been silent for export_stall_seconds, the other worker
takes it over, and the export ends done with exactly one stored file. Each run writes its partial
file in a temporary folder of its own (TMPDIR here, so the test can see it)."""

import pytest

from gasworks.reports import background, framework
from gasworks.reports.models import Export, ExportStatus
from gasworks.system.services import set_parameters
from tests.celery_harness import wait_for
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_an_export_killed_mid_file_is_finished_by_another_worker_once(celery_workers, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # the default storage the workers store into
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    set_parameters({"export_stall_seconds": "1"})
    for i in range(8):
        make_customer(name=f"Customer {i}")
    for name in ("one", "two"):
        celery_workers.start(name, stall="export-write", GASWORKS_VAR_DIR=str(tmp_path), TMPDIR=str(scratch))
    report = framework.REPORTS["customers"]
    export = background.start_export(make_user("manager"), report, framework.parse_params(report, {}), "csv")

    victim = celery_workers.stalled()  # three lines of the file written, the rest not
    parts = list(scratch.rglob("*.part"))
    first = Export.objects.get(pk=export.pk)
    assert len(parts) == 1 and first.status == ExportStatus.RUNNING
    celery_workers.kill(victim)
    # Redis would hand the task on after its visibility timeout (an hour); beat does it sooner.
    assert wait_for(background.resume_stalled, 30, "the export to stall") == [export.pk]

    wait_for(lambda: Export.objects.get(pk=export.pk).status == ExportStatus.DONE, 120, "the export")
    export.refresh_from_db()
    assert export.claimed_by != first.claimed_by  # another run's
    stored = settings.MEDIA_ROOT / "exports"
    assert [f"exports/{p.name}" for p in stored.iterdir()] == [export.file]
    lines = (settings.MEDIA_ROOT / export.file).read_text("utf-8").splitlines()
    assert sum(f"Customer {i}" in line for line in lines for i in range(8)) == 8
    assert export.rows_done == 8
    assert background.resume_stalled() == []  # nothing left to resume
