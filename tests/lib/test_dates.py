"""Plausible dates: 9999-12-31 is refused, with the window in the message, wherever a date is
typed (every date field of every form and serializer carries the validator)."""

import datetime as dt

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import serializers

from gasworks.lib.dates import PlausibleDate, shift_years
from tests.lib.inputs import declared_fields

FAR = "9999-12-31"


def test_the_window_is_around_today_and_the_message_says_it():
    today = timezone.localdate()
    check = PlausibleDate(past_years=1, future_years=2)
    check(today)
    check(shift_years(today, 2))
    check(dt.datetime.combine(shift_years(today, -1), dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1))
    for day in (shift_years(today, 2) + dt.timedelta(days=1), dt.date(9999, 12, 31), dt.date(1, 1, 1)):
        with pytest.raises(ValidationError) as caught:
            check(day)
        message = caught.value.messages[0]
        assert shift_years(today, -1).isoformat() in message and shift_years(today, 2).isoformat() in message


def test_the_window_may_come_from_a_parameter():
    years = {"n": 1}
    check = PlausibleDate(future_years=lambda: years["n"])
    later = shift_years(timezone.localdate(), 3)
    with pytest.raises(ValidationError):
        check(later)
    years["n"] = 5
    check(later)


def test_29_february_shifts_to_28_february():
    assert shift_years(dt.date(2028, 2, 29), 1) == dt.date(2029, 2, 28)


def test_every_date_input_field_has_a_plausible_window():
    loose = [
        where
        for where, field in declared_fields()
        if isinstance(
            field, forms.DateField | forms.DateTimeField | serializers.DateField | serializers.DateTimeField
        )
        and not getattr(field, "read_only", False)
        and not any(isinstance(v, PlausibleDate) for v in field.validators)
    ]
    assert loose == []


@pytest.fixture
def admin_api(client, personas):
    client.force_login(personas["admin"])
    return client


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


@pytest.mark.django_db
def test_a_far_next_inspection_of_a_cylinder_is_refused_and_nothing_is_stored(admin_api):
    from gasworks.cylinders.models import Cylinder

    body = {"code": "FAR-1", "model": "YSP35.5", "tare_kg": "15.100", "manufactured_on": "2022-03-01"}
    response = _post(admin_api, "/api/v1/cylinders/", {**body, "next_inspection_on": FAR})
    assert response.status_code == 400
    assert "next_inspection_on" in response.json()["error"]["fields"]
    assert not Cylinder.objects.exists()
    # Past its design life ahead is refused too (the window is the parameter's).
    too_far = shift_years(timezone.localdate(), 30).isoformat()
    assert _post(admin_api, "/api/v1/cylinders/", {**body, "next_inspection_on": too_far}).status_code == 400
    assert (
        _post(admin_api, "/api/v1/cylinders/", {**body, "manufactured_on": "0001-01-01"}).status_code == 400
    )
    assert _post(admin_api, "/api/v1/cylinders/", body).status_code == 201


@pytest.mark.django_db
def test_a_far_installation_date_of_a_meter_is_refused(admin_api, personas):
    from gasworks.metering.models import Meter

    body = {
        "serial_no": "FAR-M",
        "customer": personas["own_customer"].pk,
        "kind": "smart",
        "installed_on": FAR,
    }
    response = _post(admin_api, "/api/v1/meters/", body)
    assert response.status_code == 400 and "installed_on" in response.json()["error"]["fields"]
    assert not Meter.objects.exists()


@pytest.mark.django_db
def test_a_far_hazard_deadline_and_inspection_due_date_are_refused(admin_api, personas):
    from gasworks.safety.models import Hazard, InspectionTask

    customer = personas["own_customer"].pk
    hazard = _post(
        admin_api,
        "/api/v1/hazards/",
        {"customer": customer, "level": "major", "description": "x", "deadline": FAR},
    )
    assert hazard.status_code == 400 and "deadline" in hazard.json()["error"]["fields"]
    task = _post(admin_api, "/api/v1/inspections/", {"customer": customer, "due_on": FAR})
    assert task.status_code == 400 and "due_on" in task.json()["error"]["fields"]
    assert FAR in task.json()["error"]["fields"]["due_on"][0]
    assert not Hazard.objects.exists() and not InspectionTask.objects.exists()


@pytest.mark.django_db
def test_the_cylinder_page_refuses_a_far_next_inspection(admin_api):
    from gasworks.cylinders.forms import CylinderForm

    form = CylinderForm(
        {
            "code": "FAR-2",
            "model": "YSP35.5",
            "tare_kg": "15.1",
            "manufactured_on": "2022-03-01",
            "standard": "GB5842-2006",
            "next_inspection_on": FAR,
        }
    )
    assert not form.is_valid() and "next_inspection_on" in form.errors
