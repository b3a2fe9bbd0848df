import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from gasworks.safety.models import Crew, Emergency, Hazard, InspectionTask, Photo
from gasworks.safety.services import hazards, inspections
from tests.safety.conftest import form_token


def test_it_flags_a_blocked_customer_on_the_customer_page_for_any_role(client, personas):
    customer = personas["own_customer"]
    client.force_login(personas["cashier"])
    page = client.get(f"/customers/{customer.pk}/")
    assert b'data-testid="supply-blocked"' not in page.content
    hazard = hazards.raise_hazard(customer, "major", "gas smell at the meter", by=None)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="supply-blocked"' in page and hazard.notice_no in page
    client.force_login(personas["admin"])
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Override" in page and hazard.notice_no in page


def test_it_completes_a_checklist_from_the_inspector_page(client, personas, template):
    client.force_login(personas["inspector"])
    task = inspections.create_task(
        personas["own_customer"], datetime.date(2026, 5, 1), inspector=personas["inspector"]
    )
    data = {f"result_{i.code}": "pass" for i in template.items.all()}
    data.update({"result_alarm": "fail", "note_alarm": "no alarm fitted", "confirmed_by_name": "张三"})
    refused = client.post(f"/safety/inspections/{task.pk}/", data)  # no confirmation tick
    assert refused.status_code == 200 and b"must confirm" in refused.content
    assert InspectionTask.objects.get(pk=task.pk).status == "assigned" and not Hazard.objects.exists()
    data["customer_confirmed"] = "on"
    done = client.post(f"/safety/inspections/{task.pk}/", data, follow=True)
    assert b"1 hazard(s) raised" in done.content
    assert Hazard.objects.get().level == "ordinary"


def test_it_refuses_a_non_image_upload_on_the_page(client, personas):
    client.force_login(personas["inspector"])
    task = inspections.create_task(personas["own_customer"], datetime.date(2026, 5, 1))
    page = client.post(
        f"/safety/inspections/{task.pk}/photo/", {"photo": SimpleUploadedFile("a.jpg", b"text")}, follow=True
    )
    assert b"not a photo" in page.content and not Photo.objects.exists()


def test_it_lists_today_tasks_for_the_inspector(client, personas):
    client.force_login(personas["inspector"])
    inspections.create_task(
        personas["own_customer"], datetime.date(2020, 1, 1), inspector=personas["inspector"]
    )
    page = client.get("/safety/inspections/").content.decode()
    assert personas["own_customer"].name in page.split('data-testid="today-tasks"')[1].split("<form")[0]


def test_it_serves_a_self_refreshing_board(client, personas):
    client.force_login(personas["dispatcher"])
    Emergency.objects.create(
        address="望京1号", description="smell", priority="critical", reported_at="2026-03-01T10:00+08:00"
    )
    page = client.get("/safety/emergencies/").content.decode()
    assert 'hx-trigger="every 10s"' in page and "望京1号" in page
    partial = client.get("/safety/emergencies/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "望京1号" in partial


def test_it_dispatches_from_the_detail_page(client, personas):
    client.force_login(personas["dispatcher"])
    crew = Crew.objects.create(name="二队")
    case = Emergency.objects.create(
        address="x", description="y", priority="high", reported_at="2026-03-01T10:00+08:00"
    )
    client.post(f"/safety/emergencies/{case.pk}/dispatch/", {"crew": crew.pk})
    client.post(f"/safety/emergencies/{case.pk}/arrive/")
    client.post(f"/safety/emergencies/{case.pk}/resolve/", {"resolution": ""})  # refused: no resolution
    assert Emergency.objects.get(pk=case.pk).status == "arrived"
    client.post(f"/safety/emergencies/{case.pk}/resolve/", {"resolution": "fixed"})
    assert Emergency.objects.get(pk=case.pk).status == "resolved"


def test_it_lets_a_customer_report_a_leak_from_the_portal(client, personas):
    client.force_login(personas["customer"])
    token = form_token(client.get("/safety/portal/emergency/"))
    assert (
        client.post("/safety/portal/emergency/", {"description": "", "form_token": token}).status_code == 200
    )
    assert not Emergency.objects.exists()
    client.post("/safety/portal/emergency/", {"description": "smell in the kitchen", "form_token": token})
    case = Emergency.objects.get()
    assert case.customer == personas["own_customer"] and case.priority == "critical"
    hazards.raise_hazard(personas["own_customer"], "major", "hose cracked", by=None)
    page = client.get("/safety/portal/hazards/").content.decode()
    assert "hose cracked" in page and 'data-testid="supply-blocked"' in page
