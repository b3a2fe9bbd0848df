"""Crews, inspector areas, checklist versions and appointment booking."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import ChecklistTemplate, Crew, InspectionTask, InspectorArea, ItemResult
from gasworks.safety.services import checklists, inspections
from tests.factories import make_customer, make_user
from tests.safety.conftest import all_pass

# ---------------------------------------------------------------- crews


def test_it_lets_a_dispatcher_add_and_stand_down_a_crew(client, personas):
    client.force_login(personas["dispatcher"])
    response = client.post("/safety/crews/new/", {"name": "抢修二队", "phone": "010-1", "active": "on"})
    assert response.status_code == 302
    crew = Crew.objects.get(name="抢修二队")
    assert crew.active
    client.post(f"/safety/crews/{crew.pk}/", {"name": "抢修二队", "phone": "010-1"})  # unticked
    crew.refresh_from_db()
    assert not crew.active
    page = client.get("/safety/crews/").content.decode()
    assert "抢修二队" in page and "off duty" in page
    # An off-duty crew is not offered for dispatch.
    assert "抢修二队" not in client.get("/safety/emergencies/").content.decode().split("<select")[-1]


def test_it_refuses_a_duplicate_crew_name(client, personas):
    Crew.objects.create(name="一队")
    client.force_login(personas["admin"])
    page = client.post("/safety/crews/new/", {"name": "一队"})
    assert page.status_code == 200 and Crew.objects.count() == 1


# ---------------------------------------------------------------- inspector areas


def test_it_saves_an_area_and_hands_the_districts_planned_tasks_over(client, personas):
    customer = make_customer(district="朝阳区")
    district = customer.premises.district
    task = inspections.create_task(customer, datetime.date(2026, 5, 1))
    assert task.status == "planned"
    client.force_login(personas["admin"])
    response = client.post(
        "/safety/areas/new/", {"district": district, "inspector": personas["inspector"].pk}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "assigned" and task.inspector == personas["inspector"]
    area = InspectorArea.objects.get(district=district)
    assert client.post(f"/safety/areas/{area.pk}/delete/").status_code == 302
    assert not InspectorArea.objects.exists()


def test_it_refuses_a_non_inspector_or_a_second_area_for_a_district(client, personas):
    client.force_login(personas["admin"])
    page = client.post("/safety/areas/new/", {"district": "朝阳区", "inspector": personas["cashier"].pk})
    assert page.status_code == 200 and not InspectorArea.objects.exists()
    client.post("/safety/areas/new/", {"district": "朝阳区", "inspector": personas["inspector"].pk})
    other = make_user("inspector")
    page = client.post("/safety/areas/new/", {"district": "朝阳区", "inspector": other.pk})
    assert page.status_code == 200
    assert InspectorArea.objects.get().inspector == personas["inspector"]


# ---------------------------------------------------------------- checklist versions


def _formset(items, title="入户安检 v2"):
    data = {
        "title": title,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, (code, label, level, delete) in enumerate(items):
        data.update(
            {
                f"items-{n}-code": code,
                f"items-{n}-label": label,
                f"items-{n}-hazard_level": level,
                f"items-{n}-order": str(n + 1),
            }
        )
        if delete:
            data[f"items-{n}-DELETE"] = "on"
    return data


def test_it_versions_the_checklist_and_old_inspections_keep_theirs(client, personas, template):
    customer = personas["own_customer"]
    old_task = inspections.create_task(customer, datetime.date(2026, 5, 1), inspector=personas["inspector"])
    inspections.complete(
        old_task,
        all_pass(template),
        by=personas["inspector"],
        confirmed_by_name="张三",
        customer_confirmed=True,
    )
    client.force_login(personas["admin"])
    response = client.post("/safety/checklists/new/")
    draft = ChecklistTemplate.objects.get(version=template.version + 1)
    assert response["Location"] == f"/safety/checklists/{draft.pk}/"
    assert draft.is_draft and not draft.active
    assert list(draft.items.values_list("code", flat=True)) == list(
        template.items.values_list("code", flat=True)
    )
    # A second draft is refused while one is open.
    client.post("/safety/checklists/new/")
    assert ChecklistTemplate.objects.count() == 2
    items = [(i.code, i.label, i.hazard_level, i.code == "alarm") for i in draft.items.all()]
    items.append(("co_alarm", "一氧化碳报警器", "key", False))
    assert client.post(f"/safety/checklists/{draft.pk}/", _formset(items)).status_code == 302
    draft.refresh_from_db()
    codes = list(draft.items.values_list("code", flat=True))
    assert "alarm" not in codes and codes[-1] == "co_alarm" and draft.title == "入户安检 v2"
    # The version in use has not changed.
    assert (
        template.items.filter(code="alarm").exists() and not template.items.filter(code="co_alarm").exists()
    )
    client.post(f"/safety/checklists/{draft.pk}/activate/")
    draft.refresh_from_db()
    template.refresh_from_db()
    assert draft.active and draft.activated_at and not template.active
    assert inspections.current_template() == draft
    # The old inspection still shows its version and its results.
    old_task.refresh_from_db()
    assert old_task.template == template
    assert ItemResult.objects.filter(task=old_task, item__code="alarm").exists()
    page = client.get(f"/safety/inspections/{old_task.pk}/").content.decode()
    assert f"v{template.version}" in page
    # A new inspection is filled against the new version.
    inspections.create_task(make_customer(), datetime.date(2026, 5, 1), inspector=personas["inspector"])
    new_task = InspectionTask.objects.exclude(pk=old_task.pk).get()
    done = inspections.complete(
        new_task, all_pass(draft), by=personas["inspector"], confirmed_by_name="李四", customer_confirmed=True
    )
    assert done.template == draft and done.results.filter(item__code="co_alarm").exists()


def test_it_refuses_to_edit_a_version_that_has_been_in_use(client, personas, template):
    client.force_login(personas["admin"])
    before = list(template.items.values_list("code", flat=True))
    response = client.post(f"/safety/checklists/{template.pk}/", _formset([("x", "X", "key", False)]))
    assert response.status_code == 403
    with pytest.raises(DomainError) as info:
        checklists.save_draft(template, "t", [checklists.ItemInput("x", "X", "key")], by=None)
    assert info.value.code == "version_in_use"
    with pytest.raises(DomainError):
        checklists.activate(template, by=None)
    assert list(template.items.values_list("code", flat=True)) == before


def test_it_refuses_a_bad_draft_and_changes_nothing(personas, template):
    draft = checklists.new_draft(by=personas["admin"])
    count = draft.items.count()
    for items in (
        [],
        [checklists.ItemInput("a", "A", "key"), checklists.ItemInput("a", "B", "key")],
        [checklists.ItemInput("Bad Code", "A", "key")],
        [checklists.ItemInput("a", "A", "fatal")],
    ):
        with pytest.raises(InvalidInput):
            checklists.save_draft(draft, "t", items, by=None)
    assert draft.items.count() == count
    checklists.discard(draft, by=None)
    assert list(ChecklistTemplate.objects.all()) == [template]


# ---------------------------------------------------------------- appointments


def _tomorrow_window():
    day = timezone.localdate() + datetime.timedelta(days=1)
    return {"day": day.isoformat(), "starts": "09:00", "ends": "11:30"}, day


def test_it_books_a_window_shown_to_the_inspector_and_the_customer(client, personas):
    customer = personas["own_customer"]
    task = inspections.create_task(customer, datetime.date(2026, 5, 1), inspector=personas["inspector"])
    client.force_login(personas["inspector"])
    window, day = _tomorrow_window()
    client.post(f"/safety/inspections/{task.pk}/book/", window)
    task.refresh_from_db()
    assert timezone.localtime(task.appointment_at).strftime("%H:%M") == "09:00"
    assert timezone.localtime(task.appointment_end).strftime("%H:%M") == "11:30"
    assert timezone.localdate(task.appointment_at) == day
    listing = client.get("/safety/inspections/?scope=mine").content.decode()
    assert "09:00–11:30" in listing
    client.force_login(personas["customer"])
    portal = client.get("/safety/portal/inspections/").content.decode()
    upcoming = portal.split('data-testid="upcoming-appointments"')[1].split("</div>\n</div>")[0]
    assert day.isoformat() in upcoming and "09:00–11:30" in upcoming
    # The other customer sees nothing of it.
    other = make_user("customer", customer=personas["other_customer"])
    client.force_login(other)
    assert day.isoformat() not in client.get("/safety/portal/inspections/").content.decode()


# An appointment starts and ends on one local day: windows a few hours from now would cross
# midnight when the suite runs late in the evening (Asia/Shanghai). The clock is pinned.
MORNING = datetime.datetime(2026, 4, 20, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai


@time_machine.travel(MORNING, tick=False)
def test_it_refuses_a_bad_window_or_a_finished_task(client, personas, template):
    task = inspections.create_task(
        personas["own_customer"], datetime.date(2026, 5, 1), inspector=personas["inspector"]
    )
    now = timezone.now()
    for starts, ends in (
        (now + datetime.timedelta(hours=3), now + datetime.timedelta(hours=2)),  # ends first
        (now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=1)),  # in the past
        (now + datetime.timedelta(hours=2), now + datetime.timedelta(days=1, hours=2)),  # two days
    ):
        with pytest.raises(InvalidInput):
            inspections.book_appointment(task, starts, ends, by=None)
    client.force_login(personas["inspector"])
    client.post(f"/safety/inspections/{task.pk}/book/", {"day": "", "starts": "09:00", "ends": "10:00"})
    task.refresh_from_db()
    assert task.appointment_at is None and task.appointment_end is None
    inspections.complete(
        task, all_pass(template), by=personas["inspector"], confirmed_by_name="x", customer_confirmed=True
    )
    with pytest.raises(DomainError) as info:
        inspections.book_appointment(
            task, now + datetime.timedelta(hours=1), now + datetime.timedelta(hours=2), by=None
        )
    assert info.value.code == "not_bookable"


@time_machine.travel(MORNING, tick=False)
def test_it_books_through_the_api(client, personas):
    task = inspections.create_task(personas["own_customer"], datetime.date(2026, 5, 1))
    client.force_login(personas["inspector"])
    starts = timezone.now() + datetime.timedelta(days=2)
    ends = starts + datetime.timedelta(hours=2)
    url = f"/api/v1/inspections/{task.pk}/appointment/"
    response = client.post(
        url, {"starts_at": starts.isoformat(), "ends_at": ends.isoformat()}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["appointment_end"]
    bad = client.post(
        url, {"starts_at": ends.isoformat(), "ends_at": starts.isoformat()}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_appointment"
