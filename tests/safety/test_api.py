import datetime
import io

import pypdf
import pytest
from django.utils import timezone

from gasworks.safety.models import Crew, Emergency, Hazard, InspectionTask, ItemResult
from gasworks.safety.services import hazards, inspections
from tests.safety.conftest import jpeg


@pytest.fixture
def as_(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _results(template, fail=None):
    return [
        {
            "item": i.code,
            "result": "fail" if i.code == fail else "pass",
            "note": "broken" if i.code == fail else "",
        }
        for i in template.items.all()
    ]


def test_it_creates_and_completes_an_inspection_through_the_api(personas, template, as_):
    client = as_(personas["inspector"])
    customer = personas["own_customer"]
    response = client.post(
        "/api/v1/inspections/",
        {"customer": customer.pk, "due_on": "2026-05-01", "inspector": personas["inspector"].pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "assigned" and body["due_on"] == "2026-05-01"
    url = f"/api/v1/inspections/{body['id']}/complete/"
    response = client.post(
        url,
        {
            "results": _results(template, fail="valves"),
            "confirmed_by_name": "张三",
            "customer_confirmed": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "completed" and body["checklist_version"] == template.version
    assert len(body["hazards"]) == 1
    assert {r["item"]: r["result"] for r in body["results"]}["valves"] == "fail"
    # Completing twice is a conflict.
    again = client.post(
        url,
        {"results": _results(template), "confirmed_by_name": "张三", "customer_confirmed": True},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


def test_it_answers_400_for_a_bad_checklist_and_writes_nothing(personas, template, as_):
    client = as_(personas["inspector"])
    task = inspections.create_task(
        personas["own_customer"], datetime.date(2026, 5, 1), inspector=personas["inspector"]
    )
    url = f"/api/v1/inspections/{task.pk}/complete/"
    for payload in (
        {"results": [], "confirmed_by_name": "x", "customer_confirmed": True},
        {
            "results": [{"item": "leak_test", "result": "maybe"}],
            "confirmed_by_name": "x",
            "customer_confirmed": True,
        },
        {"results": _results(template)[:3], "confirmed_by_name": "x", "customer_confirmed": True},
        {"results": _results(template), "confirmed_by_name": "x", "customer_confirmed": False},
    ):
        response = client.post(url, payload, content_type="application/json")
        assert response.status_code == 400, payload
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    task.refresh_from_db()
    assert task.status == "assigned" and not ItemResult.objects.exists() and not Hazard.objects.exists()


def test_it_refuses_a_non_image_photo_with_400(personas, as_):
    client = as_(personas["inspector"])
    task = inspections.create_task(personas["own_customer"], datetime.date(2026, 5, 1))
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(
        f"/api/v1/inspections/{task.pk}/photos/", {"photo": SimpleUploadedFile("x.jpg", b"nope")}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "not_an_image"
    good = client.post(f"/api/v1/inspections/{task.pk}/photos/", {"photo": jpeg()})
    photo = good.json()
    # Its link is the view that checks who asks, not a public /media/ address.
    assert good.status_code == 201 and photo["url"] == f"/safety/photos/{photo['id']}/"
    fetched = client.get(photo["url"])
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content).startswith(b"\xff\xd8")


def test_it_takes_a_hazard_through_rectify_and_close(personas, as_):
    client = as_(personas["inspector"])
    response = client.post(
        "/api/v1/hazards/",
        {"customer": personas["own_customer"].pk, "level": "major", "description": "leaking valve"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["deadline"] == (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    pk = body["id"]
    early = client.post(f"/api/v1/hazards/{pk}/close/", {"note": "x"}, content_type="application/json")
    assert early.status_code == 409
    rectified = client.post(f"/api/v1/hazards/{pk}/rectify/", {"note": "valve replaced", "photos": [jpeg()]})
    assert rectified.status_code == 200 and rectified.json()["status"] == "rectified"
    assert len(rectified.json()["photos"]) == 1
    closed = client.post(f"/api/v1/hazards/{pk}/close/", {"note": "sound"}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_it_refuses_bad_hazards_with_400_and_writes_nothing(personas, as_):
    client = as_(personas["inspector"])
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    for payload in (
        {"customer": personas["own_customer"].pk, "level": "huge", "description": "x"},
        {"customer": 999999, "level": "key", "description": "x"},
        {"customer": personas["own_customer"].pk, "level": "key", "description": ""},
        {"customer": personas["own_customer"].pk, "level": "key", "description": "x", "deadline": past},
        {"customer": personas["own_customer"].pk, "level": "key", "description": "x", "deadline": "soon"},
    ):
        response = client.post("/api/v1/hazards/", payload, content_type="application/json")
        assert response.status_code == 400, payload
    assert not Hazard.objects.exists()


def test_it_shows_a_hazard_to_its_customer_only(personas, as_):
    mine = hazards.raise_hazard(personas["own_customer"], "key", "mine", by=None)
    theirs = hazards.raise_hazard(personas["other_customer"], "key", "theirs", by=None)
    client = as_(personas["customer"])
    assert client.get(f"/api/v1/hazards/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/hazards/{theirs.pk}/").status_code == 404
    listed = client.get("/api/v1/hazards/").json()["results"]
    assert [h["id"] for h in listed] == [mine.pk]
    assert client.post(f"/api/v1/hazards/{mine.pk}/close/", {"note": "x"}).status_code == 403
    notice = client.get(f"/api/v1/hazards/{mine.pk}/notice/")
    assert notice.status_code == 200 and notice["Content-Type"] == "application/pdf"
    assert client.get(f"/api/v1/hazards/{theirs.pk}/notice/").status_code == 404


def test_it_renders_the_rectification_notice_in_chinese(personas, as_):
    hazard = hazards.raise_hazard(personas["own_customer"], "major", "灶前软管老化开裂", by=None)
    response = as_(personas["inspector"]).get(f"/api/v1/hazards/{hazard.pk}/notice/")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "安全隐患整改通知书" in text
    assert hazard.notice_no in text and personas["own_customer"].account_no in text
    assert "灶前软管老化开裂" in text and "重大隐患" in text
    assert hazard.deadline.isoformat() in text
    assert "暂停供气" in text  # the major-hazard warning


def test_it_lets_only_an_admin_override_through_the_api(personas, as_):
    hazard = hazards.raise_hazard(personas["own_customer"], "major", "leak", by=None)
    url = f"/api/v1/hazards/{hazard.pk}/override/"
    assert as_(personas["inspector"]).post(url, {"reason": "because"}).status_code == 403
    response = as_(personas["admin"]).post(url, {"reason": "valve sealed by crew"})
    assert response.status_code == 201
    from gasworks.safety.interlock import check_supply_allowed

    check_supply_allowed(personas["own_customer"])


def test_it_runs_an_emergency_through_the_api(personas, as_):
    crew = Crew.objects.create(name="一队")
    client = as_(personas["dispatcher"])
    response = client.post(
        "/api/v1/emergencies/",
        {"address": "朝阳路1号", "description": "gas smell", "priority": "critical"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "reported" and body["reported_at"] and body["dispatched_at"] is None
    assert body["reported_at"].endswith("+08:00")
    pk = body["id"]
    assert client.post(f"/api/v1/emergencies/{pk}/arrive/").status_code == 409
    assert client.post(f"/api/v1/emergencies/{pk}/dispatch/", {"crew": 0}).status_code == 400
    body = client.post(f"/api/v1/emergencies/{pk}/dispatch/", {"crew": crew.pk}).json()
    assert body["status"] == "dispatched" and body["dispatched_at"] and body["crew_name"] == "一队"
    body = client.post(f"/api/v1/emergencies/{pk}/arrive/").json()
    assert body["status"] == "arrived" and body["arrived_at"]
    assert client.post(f"/api/v1/emergencies/{pk}/resolve/", {"resolution": ""}).status_code == 400
    body = client.post(f"/api/v1/emergencies/{pk}/resolve/", {"resolution": "fixed"}).json()
    assert body["status"] == "resolved" and body["resolved_at"]
    figures = client.get("/api/v1/emergencies/response-times/").json()
    assert figures["count"] == 1 and figures["dispatch_mean_min"] is not None


def test_it_lets_a_customer_report_only_for_itself(personas, as_):
    client = as_(personas["customer"])
    response = client.post(
        "/api/v1/emergencies/",
        {"customer": personas["other_customer"].pk, "description": "smell in kitchen", "priority": "high"},
        content_type="application/json",
    )
    assert response.status_code == 201
    case = Emergency.objects.get()
    assert case.customer == personas["own_customer"] and case.address == personas["own_customer"].address
    other = Emergency.objects.create(
        address="x",
        description="y",
        priority="low",
        reported_at=timezone.now(),
        customer=personas["other_customer"],
    )
    assert client.get(f"/api/v1/emergencies/{other.pk}/").status_code == 404
    assert [e["id"] for e in client.get("/api/v1/emergencies/").json()["results"]] == [case.pk]
    assert client.post(f"/api/v1/emergencies/{case.pk}/dispatch/", {"crew": 1}).status_code == 403
    bad = client.post(
        "/api/v1/emergencies/", {"description": "", "priority": "urgent"}, content_type="application/json"
    )
    assert bad.status_code == 400 and Emergency.objects.count() == 2
    assert client.get("/api/v1/inspections/").status_code == 403


def test_it_creates_a_follow_up_through_the_nobody_home_action(personas, as_):
    client = as_(personas["inspector"])
    task = inspections.create_task(
        personas["own_customer"], datetime.date(2026, 5, 1), inspector=personas["inspector"]
    )
    response = client.post(f"/api/v1/inspections/{task.pk}/nobody-home/", {"note": "locked"})
    assert response.status_code == 201
    assert response.json()["kind"] == "follow_up" and response.json()["follow_up_of"] == task.pk
    assert InspectionTask.objects.get(pk=task.pk).status == "nobody_home"
