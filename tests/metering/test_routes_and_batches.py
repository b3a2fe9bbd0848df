"""Route creation and the import batch as services: all or nothing, with clear 400s."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from gasworks.errors import DomainError, InvalidInput
from gasworks.metering import bulk, routes
from gasworks.metering.models import Reading, ReadingImport, ReadingRoute, RouteStop
from tests.factories import make_user
from tests.metering.helpers import at, make_meter

pytestmark = pytest.mark.django_db


def test_it_creates_a_route_with_its_stops_in_walking_order():
    a, b = make_meter(), make_meter()
    reader = make_user("meter_reader")
    route = routes.create_route(" R1 ", reader, [b.pk, a.pk, b.pk])
    assert (route.name, route.reader) == ("R1", reader)
    assert list(route.stops.order_by("position").values_list("meter_id", "position")) == [
        (b.pk, 1),
        (a.pk, 2),
    ]


@pytest.mark.parametrize(
    ("name", "meters", "code", "field"),
    [
        ("R2", "unknown", "invalid", "meters"),
        ("", "one", "invalid", "name"),
        ("taken", "one", "duplicate_name", "name"),
    ],
)
def test_it_refuses_a_bad_route_and_writes_nothing(name, meters, code, field):
    meter = make_meter()
    ReadingRoute.objects.create(name="taken")
    ids = [meter.pk + 1000] if meters == "unknown" else [meter.pk]
    with pytest.raises(InvalidInput) as refused:
        routes.create_route(name, None, ids)
    assert (refused.value.code, list(refused.value.fields)) == (code, [field])
    assert ReadingRoute.objects.count() == 1 and not RouteStop.objects.exists()


def test_a_failure_midway_leaves_no_route_without_stops(monkeypatch):
    meter = make_meter()

    def broken(*args, **kwargs):
        raise IntegrityError("stop insert failed")

    monkeypatch.setattr(RouteStop.objects, "bulk_create", broken)
    with pytest.raises(IntegrityError):
        routes.create_route("R3", None, [meter.pk])
    assert not ReadingRoute.objects.exists()


def test_the_route_page_shows_the_refusal_on_the_form(admin_client):
    ReadingRoute.objects.create(name="R1")
    page = admin_client.post("/metering/routes/new/", {"name": "R1"})
    assert page.status_code == 200 and "Already used." in page.content.decode()
    assert ReadingRoute.objects.count() == 1


def _batch(meter, *values):
    rows = [["serial_no", "value", "taken_at"]] + [
        [meter.serial_no, v, at(30 * i).strftime("%Y-%m-%d %H:%M")] for i, v in enumerate(values, 1)
    ]
    return ReadingImport.objects.create(file_name="r.csv", rows=rows)


def test_a_batch_is_imported_once_with_its_mark_in_the_same_transaction():
    meter = make_meter()
    batch = _batch(meter, "120", "140")
    assert bulk.import_batch(batch, now=at(400)) == {"imported": 2, "flagged": 0}
    batch.refresh_from_db()
    assert batch.imported == 2 and batch.imported_at is not None
    with pytest.raises(DomainError) as refused:
        bulk.import_batch(batch, now=at(400))
    assert refused.value.code == "already_imported"
    assert Reading.objects.filter(meter=meter, source="import").count() == 2


def test_a_failing_batch_leaves_neither_readings_nor_the_mark(monkeypatch):
    meter = make_meter()
    batch = _batch(meter, "120", "140")

    def broken(self, *args, **kwargs):
        raise IntegrityError("mark not saved")

    monkeypatch.setattr(ReadingImport, "save", broken)
    with pytest.raises(IntegrityError):
        bulk.import_batch(batch, now=at(400))
    monkeypatch.undo()
    batch.refresh_from_db()
    assert batch.imported_at is None
    assert not Reading.objects.filter(meter=meter, source="import").exists()
    assert bulk.import_batch(batch, now=at(400))["imported"] == 2  # and it can be confirmed again


def test_a_batch_with_bad_rows_is_refused_whole():
    meter = make_meter()
    batch = _batch(meter, "120", "abc")
    with pytest.raises(InvalidInput) as refused:
        bulk.import_batch(batch, now=at(400))
    assert refused.value.code == "invalid_rows" and "3" in refused.value.fields
    assert not Reading.objects.filter(meter=meter, source="import").exists()
    assert Decimal(0) == Decimal(ReadingImport.objects.get(pk=batch.pk).imported)


def test_staging_a_bad_file_keeps_nothing():
    with pytest.raises(DomainError):
        bulk.stage_file("r.xlsx", b"not a workbook")
    assert not ReadingImport.objects.exists()
    staged = bulk.stage_file("r.csv", b"serial_no,value,taken_at\nM1,1,2026-01-01 08:00\n")
    assert staged.rows[1] == ["M1", "1", "2026-01-01 08:00"]
    assert staged.imported_at is None
