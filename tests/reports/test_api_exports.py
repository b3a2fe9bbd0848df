"""The API's xlsx above `export_background_rows` is not written in the request: 202 with the
export's status, where to poll and (once done) where to fetch the file, as the pages do. Only its
owner sees it; it is fetched once ready (409 before, or when it failed); a repeated GET while it
is still running is the same export; a csv still streams; below the threshold the file comes at
once."""

import io

import openpyxl
import pytest

from gasworks.customers.models import Customer
from gasworks.reports import background
from gasworks.reports.models import Export, ExportStatus
from gasworks.system.services import set_parameters
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/customers/"


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    """The files go to the default storage (here the file system under a fresh MEDIA_ROOT)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / background.FOLDER


@pytest.fixture
def many(db):
    set_parameters({"export_background_rows": "5"})
    return [make_customer(category="commercial" if i % 4 == 0 else "residential") for i in range(12)]


@pytest.fixture
def manager(client):
    user = make_user("manager")
    client.force_login(user)
    return user


def test_a_long_xlsx_is_sent_to_the_background_and_answered_202(
    client, manager, many, monkeypatch, django_capture_on_commit_callbacks
):
    started = []
    monkeypatch.setattr(background, "dispatch", started.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(URL, {"format": "xlsx", "category": "residential"})
    assert response.status_code == 202, response.content
    body = response.json()
    export = Export.objects.get()
    assert started == [export.pk]  # handed over once committed, not written in the request
    assert body["id"] == export.pk and body["status"] == "queued" and body["file"] is None
    assert body["poll"] == f"/api/v1/reports/exports/{export.pk}/" == response["Location"]
    assert body["rows_total"] == Customer.objects.filter(category="residential").count()
    assert export.params == {"category": "residential"} and export.format == "xlsx"
    # Asked again while it waits: the same export, not a second file.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(URL, {"format": "xlsx", "category": "residential"})
    assert again.status_code == 202 and again.json()["id"] == export.pk and Export.objects.count() == 1
    # Not ready yet: 409 in the API's error format.
    early = client.get(f"/api/v1/reports/exports/{export.pk}/file/")
    assert early.status_code == 409 and early.json()["error"]["code"] == "export_not_ready"
    background.run_export(export.pk)
    status = client.get(body["poll"]).json()
    assert (status["status"], status["percent"]) == ("done", 100)
    assert status["file"] == f"/api/v1/reports/exports/{export.pk}/file/"
    download = client.get(status["file"])
    assert download.status_code == 200
    assert 'filename="customers.xlsx"' in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert sum(1 for r in rows if r[2] == "Residential") == body["rows_total"]


def test_only_the_owner_polls_and_fetches(client, manager, many, django_capture_on_commit_callbacks):
    export = Export.objects.create(user=manager, report="customers", format="xlsx", rows_total=12)
    client.force_login(make_user("manager"))  # another manager
    for url in (f"/api/v1/reports/exports/{export.pk}/", f"/api/v1/reports/exports/{export.pk}/file/"):
        response = client.get(url)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    client.force_login(make_user("customer"))
    assert client.get(f"/api/v1/reports/exports/{export.pk}/").status_code == 404


def test_a_failed_export_says_so(client, manager, many):
    export = Export.objects.create(
        user=manager, report="customers", format="xlsx", status=ExportStatus.FAILED, error="boom"
    )
    status = client.get(f"/api/v1/reports/exports/{export.pk}/").json()
    assert status["status"] == "failed" and status["error"] and "boom" not in status["error"]
    response = client.get(f"/api/v1/reports/exports/{export.pk}/file/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "export_failed"


def test_short_files_and_csv_come_at_once(client, manager, many):
    short = client.get(URL, {"format": "xlsx", "category": "commercial"})  # 3 rows: under 5
    assert short.status_code == 200 and short["Content-Type"].startswith("application/vnd.openxml")
    long_csv = client.get(URL, {"format": "csv"})  # a csv streams whatever its length
    assert long_csv.status_code == 200 and long_csv.streaming
    assert not Export.objects.exists()
