"""POST /api/v1/meters/, POST /api/v1/readings/, GET /api/v1/meters/{id}/readings/, device keys,
and the review endpoints (approve, correct, reject)."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.metering import services
from gasworks.metering.models import Meter, Reading
from gasworks.system.models import AuditEntry
from tests.metering.helpers import at, make_meter

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def login(client, personas, role):
    client.force_login(personas[role])
    return client


def test_it_installs_a_meter_by_api(client, personas):
    login(client, personas, "admin")
    body = {"serial_no": "API-1", "customer": personas["own_customer"].pk, "kind": "smart", "digits": 6,
            "initial_reading": "12.5", "installed_on": "2026-01-01"}  # fmt: skip
    r = post(client, "/api/v1/meters/", body)
    assert r.status_code == 201, r.content
    assert r.json()["premises"] == personas["own_customer"].premises_id
    assert post(client, "/api/v1/meters/", body).json()["error"]["code"] == "duplicate_serial"
    bad = post(client, "/api/v1/meters/", {**body, "serial_no": "API-2", "kind": "gasbag", "digits": 99})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"kind", "digits"}
    assert Meter.objects.count() == 1


def test_it_records_a_reading_exactly_as_the_contract(client, personas):
    meter = make_meter(personas["own_customer"])
    login(client, personas, "meter_reader")
    taken = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    r = post(client, "/api/v1/readings/", {"meter": meter.serial_no, "value": "123.456", "taken_at": taken})
    assert r.status_code == 201, r.content
    data = r.json()
    assert {"id", "meter", "value", "consumption", "corrected_consumption", "status", "flags"} <= set(data)
    assert (data["meter"], data["value"], data["consumption"], data["status"], data["flags"]) == (
        meter.serial_no, "123.456", "23.456", "flagged", ["gap"])  # fmt: skip
    again = post(client, "/api/v1/readings/", {"meter": meter.serial_no, "value": "124", "taken_at": taken})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_reading"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": "abc"}, "value"),
        ({"value": "-1"}, "value"),
        ({"value": "1e30"}, "value"),
        ({"value": "100000"}, "value"),  # beyond a 5-digit register
        ({"taken_at": "2999-01-01T00:00:00+08:00"}, "taken_at"),
        ({"meter": "NO-SUCH-METER"}, "meter"),
        ({"reason": "whim"}, "reason"),
    ],
)
def test_it_refuses_bad_input_with_400_and_stores_nothing(client, personas, change, field):
    meter = make_meter(personas["own_customer"])
    login(client, personas, "meter_reader")
    body = {"meter": meter.serial_no, "value": "110", "taken_at": timezone.now().isoformat(), **change}
    r = post(client, "/api/v1/readings/", body)
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]
    assert not Reading.objects.exists()


def test_it_lists_readings_and_scopes_customers(client, personas):
    own = make_meter(personas["own_customer"])
    other = make_meter(personas["other_customer"])
    login(client, personas, "admin")
    post(
        client,
        "/api/v1/readings/",
        {"meter": own.serial_no, "value": "110", "taken_at": timezone.now().isoformat()},
    )
    assert client.get(f"/api/v1/meters/{own.pk}/readings/").json()["count"] == 1
    login(client, personas, "customer")
    assert client.get(f"/api/v1/meters/{own.pk}/readings/").json()["count"] == 1
    assert client.get(f"/api/v1/meters/{other.pk}/readings/").status_code == 404
    assert (
        post(client, "/api/v1/readings/", {"meter": own.serial_no, "value": "1", "taken_at": "x"}).status_code
        == 403
    )


def test_it_issues_a_device_key_once_and_rotation_replaces_it(client, personas):
    meter = make_meter(personas["own_customer"], kind="smart")
    login(client, personas, "meter_reader")
    assert client.post(f"/api/v1/meters/{meter.pk}/device-key/").status_code == 403
    login(client, personas, "admin")
    first = client.post(f"/api/v1/meters/{meter.pk}/device-key/")
    assert first.status_code == 201 and len(first.json()["key"]) == 64
    second = client.post(f"/api/v1/meters/{meter.pk}/device-key/").json()["key"]
    assert second != first.json()["key"]
    meter.device_key.refresh_from_db()
    assert meter.device_key.key == second
    assert first.json()["key"] not in client.get(f"/api/v1/meters/{meter.pk}/").content.decode()
    plain = make_meter(personas["own_customer"])
    assert client.post(f"/api/v1/meters/{plain.pk}/device-key/").status_code == 409


# ---------------------------------------------------------------- review endpoints


@pytest.fixture
def flagged(personas):
    """A meter with 150 at day 30 and a flagged reverse reading of 140 at day 60."""
    meter = make_meter(personas["own_customer"])
    services.record_reading(meter, Decimal("150"), at(30), now=at(400))
    return services.record_reading(meter, Decimal("140"), at(60), now=at(400))


def test_it_approves_a_flagged_reading_once_by_api(client, personas, flagged):
    assert flagged.status == "flagged" and flagged.flags == ["reverse"]
    login(client, personas, "admin")
    r = post(client, f"/api/v1/readings/{flagged.pk}/approve/", {"note": "meter swapped back"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["consumption"]) == ("approved", "-10.000")
    assert Reading.objects.get(pk=flagged.pk).status == "approved"
    entry = AuditEntry.objects.get(model="metering.Reading", object_id=str(flagged.pk))
    assert entry.actor == personas["admin"] and entry.note == "meter swapped back"
    assert entry.before["status"] == "flagged" and entry.after["status"] == "approved"
    again = post(client, f"/api/v1/readings/{flagged.pk}/approve/", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"


def test_it_corrects_a_flagged_reading_and_refuses_a_correction_without_a_good_value(
    client, personas, flagged
):
    login(client, personas, "admin")
    url = f"/api/v1/readings/{flagged.pk}/correct/"
    for body, field in (({}, "value"), ({"value": "abc"}, "value"), ({"value": "100000"}, "value")):
        r = post(client, url, body)
        assert r.status_code == 400 and field in r.json()["error"]["fields"], (body, r.content)
    unchanged = Reading.objects.get(pk=flagged.pk)
    assert (unchanged.status, unchanged.value) == ("flagged", flagged.value)
    r = post(client, url, {"value": "160", "note": "photo shows 160"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["value"], r.json()["consumption"]) == (
        "approved",
        "160.000",
        "10.000",
    )


def test_it_rejects_a_flagged_reading_which_then_leaves_the_chain(client, personas, flagged):
    login(client, personas, "admin")
    r = post(client, f"/api/v1/readings/{flagged.pk}/reject/", {"note": "mistyped"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    rejected = Reading.objects.get(pk=flagged.pk)
    assert (rejected.status, rejected.note) == ("rejected", "mistyped")
    assert post(client, f"/api/v1/readings/{flagged.pk}/correct/", {"value": "151"}).status_code == 409


@pytest.mark.parametrize("role", ["cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"])
def test_it_lets_only_reviewers_decide(client, personas, flagged, role):
    login(client, personas, role)
    for action, body in (("approve", {}), ("correct", {"value": "160"}), ("reject", {})):
        r = post(client, f"/api/v1/readings/{flagged.pk}/{action}/", body)
        assert r.status_code == 403, (role, action, r.status_code)
    assert Reading.objects.get(pk=flagged.pk).status == "flagged"
    login(client, personas, "admin")
    assert post(client, "/api/v1/readings/999999/approve/", {}).status_code == 404
