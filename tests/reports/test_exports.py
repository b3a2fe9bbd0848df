"""Background exports: above `export_background_rows` the page offers "Export (in the
background)", the export runs on Celery (REDIS_URL) or a thread, shows its progress, and waits
for its owner alone; old files are deleted; a rerun after a crash writes the file again."""

import io
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.customers.models import Customer
from gasworks.reports import background, framework
from gasworks.reports.framework import Column, Report, Result
from gasworks.reports.models import Export, ExportStatus
from gasworks.system.services import set_parameters
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    """The files go to the default storage (here the file system under a fresh MEDIA_ROOT)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / background.FOLDER


def stored(export: Export) -> Path:
    return Path(default_storage.path(background.stored_name(export)))


@pytest.fixture
def inline(monkeypatch):
    """Run the export where the commit happens instead of in a thread (the test's transaction
    is invisible to another connection)."""
    monkeypatch.setattr(background, "dispatch", background.run_export)


@pytest.fixture
def many(db):
    set_parameters({"export_background_rows": "5"})
    return [make_customer(category="commercial" if i % 4 == 0 else "residential") for i in range(12)]


def _start(client, user, query="", fmt="xlsx", capture=None):
    client.force_login(user)
    with capture(execute=True):
        response = client.post(f"/reports/customers/export/{query}", {"format": fmt})
    assert response.status_code == 302
    return Export.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1])), response


def test_the_page_offers_the_background_export_above_the_threshold(client, personas, many):
    client.force_login(personas["manager"])
    page = client.get("/reports/customers/").content.decode()
    assert "Export (in the background)" in page and 'data-testid="export-background"' in page
    # A direct download of that many rows is turned back to the page.
    assert client.get("/reports/customers/?format=xlsx").status_code == 302
    # Below the threshold: the plain links, and the file at once.
    page = client.get("/reports/customers/?category=commercial").content.decode()
    assert "Export (in the background)" not in page
    response = client.get("/reports/customers/?category=commercial&format=xlsx")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert sum(1 for r in rows if r[2] == "Commercial") == 3


def test_a_background_export_runs_and_only_its_owner_downloads_it(
    client, personas, many, inline, django_capture_on_commit_callbacks
):
    export, response = _start(client, personas["manager"], capture=django_capture_on_commit_callbacks)
    assert response.url == f"/reports/exports/{export.pk}/"
    export.refresh_from_db()
    total = Customer.objects.count()  # the dozen and the personas' two
    assert (export.status, export.rows_total, export.rows_done) == (ExportStatus.DONE, total, total)
    fragment = client.get(f"/reports/exports/{export.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and f"/reports/exports/{export.pk}/download/" in fragment
    download = client.get(f"/reports/exports/{export.pk}/download/")
    assert download.status_code == 200 and 'filename="customers.xlsx"' in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    accounts = [r[0] for r in book.active.iter_rows(values_only=True)]
    assert all(c.account_no in accounts for c in many)
    assert f"/reports/exports/{export.pk}/" in client.get("/reports/exports/").content.decode()
    # Another staff member (even one who may run the report) is told nothing exists.
    client.force_login(personas["admin"])
    for path in ("", "progress/", "download/"):
        assert client.get(f"/reports/exports/{export.pk}/{path}").status_code == 404
    assert f"/reports/exports/{export.pk}/" not in client.get("/reports/exports/").content.decode()
    client.force_login(personas["customer"])
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 403


def test_the_export_keeps_the_filters_and_the_language(
    client, personas, many, inline, django_capture_on_commit_callbacks
):
    client.force_login(personas["manager"])
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    export, _response = _start(
        client, personas["manager"], "?category=residential", capture=django_capture_on_commit_callbacks
    )
    export.refresh_from_db()
    residential = Customer.objects.filter(category="residential").count()
    assert export.params == {"category": "residential"} and export.rows_done == residential
    path = stored(export)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "客户清单" and any(r[0] == "用户类别: 居民" for r in rows)
    assert sum(1 for r in rows if r[2] == "居民") == residential


def test_a_csv_export_in_the_background(client, personas, many, inline, django_capture_on_commit_callbacks):
    export, _response = _start(
        client, personas["manager"], fmt="csv", capture=django_capture_on_commit_callbacks
    )
    text = stored(Export.objects.get(pk=export.pk)).read_text("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("account_no,name,category,status")
    assert len(lines) == 1 + Customer.objects.count()


def test_the_progress_bar_polls_until_done(client, personas, many):
    export = Export.objects.create(
        user=personas["manager"], report="customers", format="xlsx", rows_total=40_000, rows_done=10_000
    )
    client.force_login(personas["manager"])
    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="25"' in page and "<script>" not in page
    assert "download/" not in page


class Long(Report):
    """A list report of 25,000 made-up rows, or failing on demand."""

    name = "long-test"
    title = _("Reports")
    permission = "reports.view_sales_report"
    period = "none"
    fail = False

    def run(self, params):
        return Result([Column("n", _("Count"), "count")], [], {})

    def count(self, params):
        return 25_000

    def rows(self, params):
        if self.fail:
            raise RuntimeError("the database went away")
        return ({"n": i} for i in range(25_000))


@pytest.fixture
def long_report():
    report = framework.register(Long())
    yield report
    framework.REPORTS.pop(report.name)


def test_progress_is_recorded_every_10000_rows(personas, long_report, monkeypatch):
    seen = []
    real_update = Export.objects.filter

    def spy(*args, **kwargs):
        queryset = real_update(*args, **kwargs)
        original = queryset.update

        def update(**values):
            if set(values) == {"rows_done", "beat_at"}:  # a progress note, with its sign of life
                seen.append(values["rows_done"])
            return original(**values)

        queryset.update = update
        return queryset

    export = Export.objects.create(
        user=personas["manager"], report="long-test", format="xlsx", rows_total=25_000
    )
    monkeypatch.setattr(Export.objects, "filter", spy)
    background.run_export(export.pk)
    assert seen == [10_000, 20_000]
    export.refresh_from_db()
    assert (export.status, export.rows_done) == (ExportStatus.DONE, 25_000)


def test_a_failed_export_says_so_and_a_rerun_writes_the_file(client, personas, long_report):
    export = Export.objects.create(
        user=personas["manager"], report="long-test", format="csv", rows_total=25_000
    )
    long_report.fail = True
    background.run_export(export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "database went away" in export.error
    client.force_login(personas["manager"])
    assert 'data-testid="export-error"' in client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert client.get(f"/reports/exports/{export.pk}/download/").status_code == 404
    # Run again (what a redelivered Celery task does): the file is written whole, once.
    long_report.fail = False
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    background.run_export(export.pk)
    background.run_export(export.pk)  # done already: nothing happens
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    assert len(stored(export).read_text("utf-8").splitlines()) == 1 + 25_000
    assert [p.name for p in stored(export).parent.iterdir()] == [stored(export).name]  # nothing left over


def test_old_exports_are_deleted_with_their_files(personas, exports_dir):
    exports_dir.mkdir(parents=True)
    old = Export.objects.create(
        user=personas["manager"],
        report="customers",
        format="xlsx",
        status=ExportStatus.DONE,
        file="exports/1-old.xlsx",
    )
    Export.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    fresh = Export.objects.create(
        user=personas["manager"],
        report="customers",
        format="xlsx",
        status=ExportStatus.DONE,
        file="exports/2-new.xlsx",
    )
    (exports_dir / "1-old.xlsx").write_bytes(b"x")
    (exports_dir / "2-new.xlsx").write_bytes(b"x")
    assert background.delete_old_exports() == 1
    assert not (exports_dir / "1-old.xlsx").exists() and (exports_dir / "2-new.xlsx").exists()
    assert list(Export.objects.values_list("pk", flat=True)) == [fresh.pk]
    set_parameters({"export_keep_days": "1"})
    assert background.delete_old_exports(now=timezone.now() + timedelta(days=2)) == 1


def test_with_redis_the_export_goes_to_celery(
    settings, personas, many, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = "redis://127.0.0.1:6379/0", False
    sent = []
    monkeypatch.setattr(background.export_task, "delay", sent.append)
    report = framework.REPORTS["customers"]
    with django_capture_on_commit_callbacks(execute=True):
        export = background.start_export(
            personas["manager"], report, framework.parse_params(report, {}), "xlsx"
        )
    assert sent == [export.pk] and not background.THREADS


@pytest.mark.django_db(transaction=True)
def test_without_redis_a_thread_writes_the_file(client, settings):
    set_parameters({"export_background_rows": "2"})
    for _i in range(3):
        make_customer()
    user = make_user("manager")
    client.force_login(user)
    response = client.post("/reports/customers/export/", {"format": "xlsx"})
    export_id = int(response.url.rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while Export.objects.get(pk=export_id).status != ExportStatus.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
    for thread in background.THREADS:
        thread.join(timeout=10)
    assert Export.objects.get(pk=export_id).status == ExportStatus.DONE
    assert client.get(f"/reports/exports/{export_id}/download/").status_code == 200


def test_the_fast_rows_are_the_cells_xlsxwriter_writes(tmp_path):
    """write_xlsx writes data rows straight into XlsxWriter's row stream; the cells must be the
    ones XlsxWriter's own write_string / write_number give, tricky text included."""
    import xlsxwriter

    from gasworks.customers.models import Category
    from gasworks.reports import export

    columns = [
        Column("text", _("Name")),
        Column("code", _("Category"), "code", Category.choices),
        Column("money", _("Amount"), "money"),
        Column("volume", _("Volume"), "volume"),
    ]
    texts = [
        "plain",
        "A&B <c>",
        " lead",
        "trail ",
        "tab\there",
        "bell\x07",
        "_x0041_",
        "全角\u3000",
        "",
        "x" * 40000,
    ]
    rows = [
        {
            "text": t,
            "code": ("residential", "commercial", "martian")[i % 3],
            "money": Decimal("12.34") * i,
            "volume": None,
        }
        for i, t in enumerate(texts)
    ]
    rows.append({"text": None, "code": None, "money": None, "volume": Decimal("0.001")})
    fast = tmp_path / "fast.xlsx"
    export.write_xlsx(Long(), framework.Params(), columns, rows, {"money": Decimal("1")}, str(fast))

    slow = tmp_path / "slow.xlsx"
    book = xlsxwriter.Workbook(str(slow), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    formats = {kind: book.add_format({"num_format": f}) for kind, f in export.FORMATS.items()}
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            value = row.get(column.key)
            if value is None:
                continue
            if column.numeric:
                sheet.write_number(r, c, float(value), formats[column.kind])
            else:
                sheet.write_string(r, c, column.label_of(value))
    book.close()

    got = list(openpyxl.load_workbook(fast).active.iter_rows())
    header = next(i for i, cells in enumerate(got) if cells[0].value == "Name")
    got = got[header + 1 : header + 1 + len(rows)]
    want = list(openpyxl.load_workbook(slow).active.iter_rows())
    assert len(got) == len(want) == len(rows)
    for got_row, want_row in zip(got, want, strict=True):
        assert [(c.value, c.number_format) for c in got_row] == [(c.value, c.number_format) for c in want_row]


def _files(folder: Path) -> list[str]:
    """The stored names of the files in the exports' folder of the default storage."""
    return sorted(f"{background.FOLDER}/{path.name}" for path in folder.iterdir()) if folder.exists() else []


def test_a_run_silent_too_long_is_taken_over_and_stops_at_its_next_note(personas, long_report, exports_dir):
    export = Export.objects.create(
        user=personas["manager"], report="long-test", format="csv", rows_total=25_000
    )
    second, notes = [], []

    def meanwhile(done):
        # The first run (at its first note) is taken for dead: its claim's last sign of life is
        # made old, and a second delivery of the task runs the whole export.
        notes.append(done)
        if not second:
            Export.objects.filter(pk=export.pk).update(beat_at=timezone.now() - timedelta(hours=1))
            second.append(background.run_export(export.pk))

    first = background.run_export(export.pk, on_progress=meanwhile)
    assert notes == [10_000]  # the first run stopped at its next note (20,000)
    assert second[0].status == ExportStatus.DONE and first.claimed_by == second[0].claimed_by
    export.refresh_from_db()
    assert (export.status, export.rows_done) == (ExportStatus.DONE, 25_000)
    assert _files(exports_dir) == [export.file]  # one file stored; the partial ones were the runs' own
    assert len(stored(export).read_text("utf-8").splitlines()) == 1 + 25_000


def test_a_run_alive_is_left_alone_by_a_second_delivery(personas, long_report, exports_dir):
    export = Export.objects.create(
        user=personas["manager"], report="long-test", format="csv", rows_total=25_000
    )
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, claimed_by="w1:1:ab", beat_at=now)
    again = background.run_export(export.pk)
    assert (again.status, again.claimed_by, again.rows_done) == (ExportStatus.RUNNING, "w1:1:ab", 0)
    assert _files(exports_dir) == []
    # Silent past export_stall_seconds: beat sends it again, and that run takes it over.
    sent = []
    set_parameters({"export_stall_seconds": "60"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(background, "dispatch", sent.append)
        assert background.resume_stalled(now=now + timedelta(seconds=59)) == []
        assert background.resume_stalled(now=now + timedelta(seconds=61)) == [export.pk]
    Export.objects.filter(pk=export.pk).update(beat_at=now - timedelta(seconds=61))  # as then
    assert background.run_export(sent[0]).status == ExportStatus.DONE
    assert _files(exports_dir) == [Export.objects.get(pk=export.pk).file]


def test_an_export_queued_too_long_is_sent_again_and_a_done_one_never(personas, monkeypatch):
    old = timezone.now() - timedelta(hours=1)
    queued = Export.objects.create(user=personas["manager"], report="customers", format="csv", created_at=old)
    Export.objects.create(user=personas["manager"], report="customers", format="csv")  # just queued
    Export.objects.create(
        user=personas["manager"], report="customers", format="csv", created_at=old, status=ExportStatus.DONE
    )
    Export.objects.create(
        user=personas["manager"], report="customers", format="csv", created_at=old, status=ExportStatus.FAILED
    )
    sent = []
    monkeypatch.setattr(background, "dispatch", sent.append)
    assert background.resume_stalled() == [queued.pk] == sent


def _dead_run(user, **extra) -> Export:
    """An export whose thread died with its web process an hour ago (no Redis: no beat)."""
    return Export.objects.create(
        user=user,
        report="customers",
        format="csv",
        status=ExportStatus.RUNNING,
        claimed_by="web1:4242:deadbeef",
        beat_at=timezone.now() - timedelta(hours=1),
        rows_total=12,
        **extra,
    )


@pytest.mark.parametrize(
    "look", ["/reports/exports/", "/reports/exports/{pk}/", "/api/v1/reports/exports/{pk}/"]
)
def test_without_redis_a_stalled_export_is_resumed_when_its_pages_are_looked_at(
    client, settings, personas, many, inline, look
):
    settings.REDIS_URL = ""
    export = _dead_run(personas["manager"])
    alive = _dead_run(personas["manager"], params={"category": "commercial"})
    Export.objects.filter(pk=alive.pk).update(beat_at=timezone.now())  # its run is still writing
    client.force_login(personas["manager"])
    assert client.get(look.format(pk=export.pk)).status_code == 200
    export.refresh_from_db()
    customers = Customer.objects.count()
    assert (export.status, export.rows_done) == (ExportStatus.DONE, customers)
    assert len(stored(export).read_text("utf-8").splitlines()) == 1 + customers
    assert Export.objects.get(pk=alive.pk).status == ExportStatus.RUNNING  # left to its run


def test_without_redis_asking_for_an_export_resumes_a_stalled_one_first(
    settings, personas, many, monkeypatch
):
    settings.REDIS_URL = ""
    stalled = _dead_run(personas["manager"])
    sent = []
    monkeypatch.setattr(background, "dispatch", sent.append)
    report = framework.REPORTS["customers"]
    background.start_export(personas["cashier"], report, framework.parse_params(report, {}), "csv")
    assert sent == [stalled.pk]


def test_with_redis_the_pages_leave_resuming_to_beat(client, settings, personas, many, monkeypatch):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = "redis://127.0.0.1:6379/12", False
    export = _dead_run(personas["manager"])
    sent = []
    monkeypatch.setattr(background, "dispatch", sent.append)
    client.force_login(personas["manager"])
    assert client.get(f"/reports/exports/{export.pk}/").status_code == 200
    assert sent == [] and background.resume_stalled() == [export.pk]
