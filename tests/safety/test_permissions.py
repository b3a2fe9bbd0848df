"""Every role × every safety route: who gets 200, 403 or 404."""

import datetime

import pytest
from django.utils import timezone

from gasworks.safety.models import Crew, Emergency, InspectorArea
from gasworks.safety.services import hazards, inspections

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]
INSPECTION = {"admin", "inspector"}
HAZARD_STAFF = {"admin", "inspector"}
EMERGENCY = {"admin", "dispatcher"}
ADMIN = {"admin"}


@pytest.fixture
def objects(personas, template):
    task = inspections.create_task(personas["own_customer"], datetime.date(2026, 5, 1))
    own = hazards.raise_hazard(personas["own_customer"], "key", "own", by=None)
    other = hazards.raise_hazard(personas["other_customer"], "key", "other", by=None)
    case = Emergency.objects.create(
        address="x",
        description="y",
        priority="high",
        reported_at=timezone.now(),
        customer=personas["own_customer"],
    )
    crew = Crew.objects.create(name="一队")
    area = InspectorArea.objects.create(district="海淀区", inspector=personas["inspector"])
    return {
        "task": task.pk,
        "own": own.pk,
        "other": other.pk,
        "case": case.pk,
        "crew": crew.pk,
        "area": area.pk,
        "tpl": template.pk,
    }


def _expected(role, allowed, customer=403):
    if role == "customer":
        return customer
    return 200 if role in allowed else 403


def _routes(o):
    return [
        ("/safety/inspections/", INSPECTION, 403),
        ("/safety/inspections/new/", INSPECTION, 403),
        (f"/safety/inspections/{o['task']}/", INSPECTION, 403),
        ("/safety/hazards/", HAZARD_STAFF, 403),
        ("/safety/hazards/overdue/", HAZARD_STAFF, 403),
        ("/safety/hazards/new/", HAZARD_STAFF, 403),
        (f"/safety/hazards/{o['own']}/", HAZARD_STAFF, 200),
        (f"/safety/hazards/{o['other']}/", HAZARD_STAFF, 404),
        (f"/safety/hazards/{o['own']}/notice.pdf", HAZARD_STAFF, 200),
        (f"/safety/hazards/{o['other']}/notice.pdf", HAZARD_STAFF, 404),
        ("/safety/emergencies/", EMERGENCY, 403),
        ("/safety/emergencies/new/", EMERGENCY, 403),
        (f"/safety/emergencies/{o['case']}/", EMERGENCY, 403),
        ("/safety/portal/hazards/", set(), 200),
        ("/safety/portal/emergency/", set(), 200),
        ("/safety/portal/inspections/", set(), 200),
        ("/safety/crews/", EMERGENCY, 403),
        ("/safety/crews/new/", EMERGENCY, 403),
        (f"/safety/crews/{o['crew']}/", EMERGENCY, 403),
        ("/safety/areas/", INSPECTION, 403),
        ("/safety/areas/new/", ADMIN, 403),
        (f"/safety/areas/{o['area']}/", ADMIN, 403),
        ("/safety/checklists/", INSPECTION, 403),
        (f"/safety/checklists/{o['tpl']}/", INSPECTION, 403),
        ("/api/v1/inspections/", INSPECTION, 403),
        (f"/api/v1/inspections/{o['task']}/", INSPECTION, 403),
        ("/api/v1/hazards/", HAZARD_STAFF, 200),
        (f"/api/v1/hazards/{o['own']}/", HAZARD_STAFF, 200),
        (f"/api/v1/hazards/{o['other']}/", HAZARD_STAFF, 404),
        ("/api/v1/emergencies/", EMERGENCY, 200),
        (f"/api/v1/emergencies/{o['case']}/", EMERGENCY, 200),
        ("/api/v1/emergencies/response-times/", EMERGENCY, 403),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_it_checks_every_get_route_for_every_role(client, personas, objects, role):
    client.force_login(personas[role])
    failures = []
    for url, allowed, customer in _routes(objects):
        expected = _expected(role, allowed, customer)
        got = client.get(url).status_code
        if got != expected:
            failures.append(f"{url}: expected {expected}, got {got}")
    assert not failures, failures


POSTS = [
    ("/api/v1/inspections/", INSPECTION, 403),
    ("/api/v1/inspections/{task}/complete/", INSPECTION, 403),
    ("/api/v1/inspections/{task}/nobody-home/", INSPECTION, 403),
    ("/api/v1/hazards/", HAZARD_STAFF, 403),
    ("/api/v1/hazards/{own}/rectify/", HAZARD_STAFF, 403),
    ("/api/v1/hazards/{own}/close/", HAZARD_STAFF, 403),
    ("/api/v1/hazards/{own}/override/", {"admin"}, 403),
    ("/api/v1/emergencies/{case}/dispatch/", EMERGENCY, 403),
    ("/api/v1/emergencies/{case}/arrive/", EMERGENCY, 403),
    ("/api/v1/emergencies/{case}/resolve/", EMERGENCY, 403),
    ("/safety/inspections/plan/", INSPECTION, 403),
    ("/safety/inspections/{task}/start/", INSPECTION, 403),
    ("/safety/hazards/{own}/rectify/", HAZARD_STAFF, 403),
    ("/safety/hazards/{own}/override/", {"admin"}, 403),
    ("/safety/emergencies/{case}/dispatch/", EMERGENCY, 403),
    ("/safety/inspections/{task}/book/", INSPECTION, 403),
    ("/api/v1/inspections/{task}/appointment/", INSPECTION, 403),
    ("/safety/crews/new/", EMERGENCY, 403),
    ("/safety/crews/{crew}/", EMERGENCY, 403),
    ("/safety/areas/new/", ADMIN, 403),
    ("/safety/areas/{area}/", ADMIN, 403),
    ("/safety/areas/{area}/delete/", ADMIN, 403),
    ("/safety/checklists/new/", ADMIN, 403),
    ("/safety/checklists/{tpl}/", ADMIN, 403),
    ("/safety/checklists/{tpl}/activate/", ADMIN, 403),
    ("/safety/checklists/{tpl}/discard/", ADMIN, 403),
]


@pytest.mark.parametrize("role", ["cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"])
def test_it_refuses_writes_to_roles_without_the_permission(client, personas, objects, role):
    client.force_login(personas[role])
    for template_url, allowed, _customer in POSTS:
        if role in allowed:
            continue
        url = template_url.format(**objects)
        assert client.post(url, {}).status_code == 403, url


def test_it_sends_anonymous_visitors_away(client, objects):
    assert client.get("/safety/inspections/").status_code == 302
    assert client.get(f"/safety/hazards/{objects['own']}/").status_code == 302
    assert client.get("/api/v1/hazards/").status_code in (401, 403)
    assert client.post("/api/v1/emergencies/", {}).status_code in (401, 403)
    assert client.get("/safety/crews/").status_code == 302
    assert client.get("/safety/portal/inspections/").status_code == 302
