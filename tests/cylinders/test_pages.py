import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.cylinders.models import Cylinder, CylinderEvent, Filling
from tests.cylinders.helpers import make_cylinder

pytestmark = pytest.mark.django_db


def test_it_reads_the_simulated_serial_scale_on_the_fill_page(client, personas):
    cylinder = make_cylinder(code="SIM-0001", tare="15.000")
    client.force_login(personas["filler"])
    page = client.get("/cylinders/fill/?code=sim-0001&scale=sim").content.decode()
    # Settles at tare + 98 % of the rated fill: 15 + 14.21 kg.
    assert 'value="29.210"' in page and 'value="SIM-1"' in page
    response = client.post(
        "/cylinders/fill/", {"code": cylinder.code, "gross_kg": "29.210", "scale_id": "SIM-1"}
    )
    assert response.status_code == 302
    assert Filling.objects.get().scale_id == "SIM-1"


def test_it_shows_the_refusal_and_saves_nothing_on_an_overfill(client, personas):
    cylinder = make_cylinder(code="OVR-0001", tare="15.000")
    client.force_login(personas["filler"])
    events = CylinderEvent.objects.count()
    page = client.post("/cylinders/fill/", {"code": cylinder.code, "gross_kg": "40", "scale_id": "manual"})
    assert page.status_code == 200
    assert "Overfill" in page.content.decode()
    bad = client.post("/cylinders/fill/", {"code": cylinder.code, "gross_kg": "abc"})
    assert bad.status_code == 200
    assert not Filling.objects.exists() and CylinderEvent.objects.count() == events


def test_it_shows_the_interlock_reason_before_weighing(client, personas):
    make_cylinder(code="OLD-0001", next_inspection_on=timezone.localdate() - datetime.timedelta(days=3))
    client.force_login(personas["filler"])
    page = client.get("/cylinders/fill/?code=OLD-0001").content.decode()
    assert "inspection_overdue" in page and "gross_kg" not in page


def test_it_runs_an_inspection_from_the_due_list(client, personas):
    today = timezone.localdate()
    ok = make_cylinder(code="INS-0001", next_inspection_on=today + datetime.timedelta(days=10))
    bad = make_cylinder(code="INS-0002", next_inspection_on=today + datetime.timedelta(days=50))
    client.force_login(personas["admin"])
    page = client.get("/cylinders/inspection/?days=30").content.decode()
    assert "INS-0001" in page and "INS-0002" not in page
    assert "INS-0002" in client.get("/cylinders/inspection/?days=60").content.decode()
    for code in (ok.code, bad.code):
        client.post(f"/cylinders/inspection/{code}/send/", {"days": "30"})
    next_on = today + datetime.timedelta(days=365 * 3)
    client.post(f"/cylinders/inspection/{ok.code}/pass/", {"next_on": next_on.isoformat()})
    client.post(f"/cylinders/inspection/{bad.code}/fail/", {"note": "dent"})
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, ok.next_inspection_on, ok.last_inspection_on) == ("empty_in_station", next_on, today)
    assert bad.status == "scrapped"


def test_it_registers_from_the_page_and_refuses_bad_input(client, personas):
    client.force_login(personas["admin"])
    data = {
        "code": "NEW-0001",
        "model": "YSP118",
        "tare_kg": "48",
        "manufactured_on": "2024-05-01",
        "standard": "GB5842-2006",
    }
    assert client.post("/cylinders/new/", {**data, "tare_kg": "-1"}).status_code == 200
    assert not Cylinder.objects.exists()
    assert client.post("/cylinders/new/", data).status_code == 302
    assert Cylinder.objects.get().rated_fill_kg == Decimal("49.500")
    page = client.get("/cylinders/c/NEW-0001/").content.decode()
    assert "Registered" in page
