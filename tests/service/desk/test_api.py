import pytest

from gasworks.metering.models import Meter
from gasworks.service.desk import services
from gasworks.service.desk.models import RequestStatus, ServiceRequest
from tests.service.desk.conftest import make_meter

pytestmark = pytest.mark.django_db
URL = "/api/v1/service-requests/"


@pytest.fixture
def as_(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_a_customer_opens_its_own_request_and_sees_only_its_own(as_, personas):
    services.open_request(
        personas["other_customer"], "repair", "theirs", source="phone", by=personas["dispatcher"]
    )
    api = as_(personas["customer"])
    answer = api.post(URL, {"kind": "repair", "description": "no hot water"}, content_type="application/json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["customer"] == personas["own_customer"].pk
    assert body["status"] == "open" and body["source"] == "portal" and body["due_by"]
    listed = api.get(URL).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    other = ServiceRequest.objects.exclude(pk=body["id"]).get()
    assert api.get(f"{URL}{other.pk}/").status_code == 404


def test_a_customer_may_not_open_a_disconnection_or_for_someone_else(as_, personas):
    api = as_(personas["customer"])
    answer = api.post(URL, {"kind": "disconnection", "description": "x"}, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "kind_not_allowed"
    answer = api.post(
        URL,
        {"kind": "repair", "description": "x", "customer": personas["other_customer"].pk},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "not_your_account"
    assert not ServiceRequest.objects.exists()


def test_a_customer_may_not_assign(as_, personas):
    req = services.open_request(
        personas["own_customer"], "repair", "x", source="portal", by=personas["customer"]
    )
    answer = as_(personas["customer"]).post(
        f"{URL}{req.pk}/assign/", {"user": 1}, content_type="application/json"
    )
    assert answer.status_code == 403


def test_staff_take_a_meter_change_through_the_api(as_, personas):
    customer = personas["own_customer"]
    old = make_meter(customer)
    reader = personas["meter_reader"]
    api = as_(reader)
    opened = api.post(
        URL,
        {
            "customer": customer.pk,
            "kind": "meter_change",
            "description": "ten years old",
            "source": "counter",
        },
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.json()
    pk = opened.json()["id"]
    assert api.post(f"{URL}{pk}/complete/", {"note": "x"}, content_type="application/json").status_code == 409
    bad = api.post(f"{URL}{pk}/assign/", {"user": personas["cashier"].pk}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_assignee"
    assigned = api.post(f"{URL}{pk}/assign/", {"user": reader.pk}, content_type="application/json")
    assert assigned.json()["status"] == "assigned"
    assert api.post(f"{URL}{pk}/start/").json()["status"] == "in_progress"
    missing = api.post(
        f"{URL}{pk}/complete/", {"note": "done", "new_serial_no": "N9"}, content_type="application/json"
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == {"old_reading": ["Required."]}
    done = api.post(
        f"{URL}{pk}/complete/",
        {"note": "swapped", "old_reading": "131.000", "new_serial_no": "N9", "new_reading": "0"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done"
    assert Meter.objects.get(pk=old.pk).status == "removed"
    again = api.post(f"{URL}{pk}/complete/", {"note": "again"}, content_type="application/json")
    assert again.status_code == 409
    assert Meter.objects.filter(serial_no="N9").count() == 1


def test_cancel_needs_a_reason(as_, personas):
    req = services.open_request(
        personas["own_customer"], "repair", "x", source="phone", by=personas["dispatcher"]
    )
    api = as_(personas["dispatcher"])
    assert api.post(f"{URL}{req.pk}/cancel/", {}, content_type="application/json").status_code == 400
    answer = api.post(
        f"{URL}{req.pk}/cancel/", {"reason": "duplicate", "refused": True}, content_type="application/json"
    )
    assert answer.json()["status"] == "cancelled" and answer.json()["refused"] is True


def test_the_idempotency_key_replays_the_first_answer(as_, personas):
    api = as_(personas["dispatcher"])
    body = {"customer": personas["own_customer"].pk, "kind": "repair", "description": "leaking tap"}
    first = api.post(URL, body, content_type="application/json", headers={"Idempotency-Key": "k1"})
    second = api.post(URL, body, content_type="application/json", headers={"Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    other = api.post(
        URL,
        {**body, "description": "else"},
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert other.status_code == 409
    assert ServiceRequest.objects.count() == 1


def test_roles_without_the_permission_get_403(as_, personas):
    assert as_(personas["filler"]).get(URL).status_code == 403
    assert as_(personas["filler"]).post(URL, {}, content_type="application/json").status_code == 403


def test_a_staff_member_outside_the_owning_role_may_not_work_it(as_, personas):
    req = services.open_request(
        personas["own_customer"], "bill_query", "x", source="phone", by=personas["cashier"]
    )
    # the dispatcher does not see a bill query: 404, not a hint that it exists
    answer = as_(personas["dispatcher"]).post(f"{URL}{req.pk}/start/")
    assert answer.status_code == 404
    assert ServiceRequest.objects.get().status == RequestStatus.OPEN
