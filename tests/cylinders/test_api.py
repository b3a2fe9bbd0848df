import datetime

import pytest
from django.utils import timezone

from gasworks.cylinders.models import Cylinder, CylinderEvent, Filling
from tests.cylinders.helpers import make_cylinder

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client, personas):
    client.force_login(personas["admin"])
    return client


BODY = {
    "code": "API-0001",
    "model": "YSP35.5",
    "tare_kg": "15.100",
    "rated_fill_kg": "14.500",
    "manufactured_on": "2022-03-01",
    "next_inspection_on": "2030-03-01",
}


def test_it_registers_and_reads_a_cylinder_with_history(admin_api):
    response = admin_api.post("/api/v1/cylinders/", BODY, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["scrap_on"] == "2034-03-01"
    assert response.json()["next_inspection_on"] == "2030-03-01"
    fill = admin_api.post(
        "/api/v1/cylinders/api-0001/fillings/", {"gross_kg": "29.350"}, content_type="application/json"
    )
    assert fill.status_code == 201
    assert fill.json()["net_kg"] == "14.250"
    body = admin_api.get("/api/v1/cylinders/API-0001/").json()
    assert body["status"] == "full_in_station"
    assert [e["kind"] for e in body["history"]] == ["registered", "filled"]
    assert body["history"][1]["mass_kg"] == "14.250"


def test_it_answers_409_with_a_code_for_a_duplicate(admin_api):
    admin_api.post("/api/v1/cylinders/", BODY, content_type="application/json")
    response = admin_api.post("/api/v1/cylinders/", BODY, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_code"


@pytest.mark.parametrize(
    "change",
    [
        {"model": "YSP99"},
        {"tare_kg": "-1"},
        {"tare_kg": "abc"},
        {"manufactured_on": "2022-13-01"},
        {"code": "a b"},
        {"code": ""},
    ],
)
def test_it_answers_400_to_bad_input_and_writes_nothing(admin_api, change):
    response = admin_api.post("/api/v1/cylinders/", {**BODY, **change}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert not Cylinder.objects.exists()
    assert not CylinderEvent.objects.exists()


@pytest.mark.parametrize(
    ("setup", "gross", "code"),
    [
        ("scrapped", "29", "cylinder_scrapped"),
        ("overdue", "29", "inspection_overdue"),
        ("ok", "29.600", "overfill"),
        ("ok", "10", "gross_below_tare"),
    ],
)
def test_it_refuses_fills_with_409_and_a_clear_code(admin_api, setup, gross, code):
    cylinder = make_cylinder(tare="15.000")
    if setup == "scrapped":
        Cylinder.objects.filter(pk=cylinder.pk).update(status="scrapped")
    if setup == "overdue":
        Cylinder.objects.filter(pk=cylinder.pk).update(
            next_inspection_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    events = CylinderEvent.objects.count()
    response = admin_api.post(
        f"/api/v1/cylinders/{cylinder.code}/fillings/", {"gross_kg": gross}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    assert not Filling.objects.exists()
    assert CylinderEvent.objects.count() == events


@pytest.mark.parametrize("body", [{}, {"gross_kg": "x"}, {"gross_kg": "-3"}, {"gross_kg": "0"}])
def test_it_answers_400_to_a_bad_fill_body(admin_api, body):
    cylinder = make_cylinder()
    response = admin_api.post(
        f"/api/v1/cylinders/{cylinder.code}/fillings/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not Filling.objects.exists()
    assert Cylinder.objects.get(pk=cylinder.pk).status == "empty_in_station"


def test_it_answers_404_for_an_unknown_cylinder(admin_api):
    assert admin_api.get("/api/v1/cylinders/NOPE-1/").status_code == 404
    response = admin_api.post(
        "/api/v1/cylinders/NOPE-1/fillings/", {"gross_kg": "20"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_cylinder"
