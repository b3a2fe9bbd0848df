"""Booking or moving a home inspection in the portal from the slots the inspector's area allows
(gasworks.safety.services.slots, inspections.book_slot): working days only, never in the past or
under the minimum notice, never a taken slot; moving frees the old slot; two customers racing for
one slot on PostgreSQL: one wins, the other gets a clear error."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import InspectionTask, InspectorArea, TaskKind, TaskStatus
from gasworks.safety.services import inspections, slots
from gasworks.system.models import Parameter
from tests.factories import make_customer, make_user
from tests.portal.helpers import local_time

MONDAY = local_time(2026, 11, 23, 10, 0)  # Monday 23 November 2026, 10:00 in Beijing
TUESDAY_10 = local_time(2026, 11, 24, 10)


@pytest.fixture
def area(db):
    inspector = make_user("inspector")
    InspectorArea.objects.create(district="朝阳区", inspector=inspector)
    return inspector


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY, tick=False):
        yield


def neighbour():
    return make_customer(district="朝阳区")


def free(customer):
    task = inspections.open_task(customer)
    return slots.free_slots(customer, slots.inspector_for(customer, task), task)


pytestmark = pytest.mark.django_db


def test_the_slots_are_working_hours_of_working_days_after_the_notice(area, frozen):
    offered = free(neighbour())
    assert offered[0].starts_at == TUESDAY_10  # Tuesday 09:00 is under 24 hours away
    assert offered[0].ends_at == local_time(2026, 11, 24, 11)
    days = {s.starts_at.astimezone().date() for s in offered}
    assert dt.date(2026, 11, 28) not in days and dt.date(2026, 11, 29) not in days  # the weekend
    assert max(days) == dt.date(2026, 12, 7)  # 14 days ahead
    times = {s.starts_at.astimezone().hour for s in offered}
    assert times == set(range(9, 17))


def test_holidays_slot_length_and_hours_come_from_parameters(area, frozen):
    Parameter.objects.bulk_create(
        [
            Parameter(key="inspection_holidays", value="2026-11-25, nonsense"),
            Parameter(key="inspection_slot_minutes", value="90"),
            Parameter(key="inspection_day_end_hour", value="12"),
        ]
    )
    offered = free(neighbour())
    days = {s.starts_at.astimezone().date() for s in offered}
    assert dt.date(2026, 11, 25) not in days
    thursday = [s.starts_at.astimezone().strftime("%H:%M") for s in offered if s.starts_at.day == 26]
    assert thursday == ["09:00", "10:30"]


def test_booking_opens_a_requested_visit_with_the_districts_inspector(area, frozen):
    customer = neighbour()
    task = inspections.book_slot(customer, TUESDAY_10, by=None)
    assert (task.kind, task.status, task.inspector) == (TaskKind.REQUESTED, TaskStatus.ASSIGNED, area)
    assert (task.appointment_at, task.appointment_end) == (TUESDAY_10, local_time(2026, 11, 24, 11))
    assert TUESDAY_10 not in [s.starts_at for s in free(neighbour())]


def test_booking_takes_the_planned_task_and_moving_frees_the_old_slot(area, frozen):
    customer = neighbour()
    planned = inspections.create_task(customer, dt.date(2026, 12, 31), auto_assign=False)
    inspections.book_slot(customer, TUESDAY_10, by=None)
    moved = inspections.book_slot(customer, local_time(2026, 11, 26, 14), by=None)
    assert moved.pk == planned.pk and moved.status == TaskStatus.ASSIGNED
    assert InspectionTask.objects.count() == 1
    assert moved.appointment_at == local_time(2026, 11, 26, 14)
    other = inspections.book_slot(neighbour(), TUESDAY_10, by=None)  # the old slot is free again
    assert other.appointment_at == TUESDAY_10


@pytest.mark.parametrize(
    ("starts_at", "code"),
    [
        (local_time(2026, 11, 23, 9), "in_the_past"),
        (local_time(2026, 11, 24, 9), "too_soon"),
        (local_time(2026, 11, 24, 10, 30), "not_a_slot"),
        (local_time(2026, 11, 24, 17), "not_a_slot"),  # after the working hours
        (local_time(2026, 11, 28, 10), "not_a_slot"),  # a Saturday
        (local_time(2026, 12, 9, 10), "not_a_slot"),  # beyond 14 days
    ],
)
def test_a_time_not_offered_is_a_400_and_writes_nothing(area, frozen, starts_at, code):
    with pytest.raises(InvalidInput) as refused:
        inspections.book_slot(neighbour(), starts_at, by=None)
    assert (refused.value.code, refused.value.status) == (code, 400)
    assert not InspectionTask.objects.exists()


def test_a_taken_slot_is_a_409_and_writes_nothing(area, frozen):
    inspections.book_slot(neighbour(), TUESDAY_10, by=None)
    late = neighbour()
    planned = inspections.create_task(late, dt.date(2026, 12, 31), auto_assign=False)
    with pytest.raises(DomainError) as refused:
        inspections.book_slot(late, TUESDAY_10, by=None)
    assert (refused.value.code, refused.value.status) == ("slot_taken", 409)
    planned.refresh_from_db()
    assert (planned.status, planned.inspector, planned.appointment_at) == (TaskStatus.PLANNED, None, None)


def test_a_staff_booked_window_covers_its_slots(area, frozen):
    task = inspections.create_task(neighbour(), dt.date(2026, 12, 31))
    inspections.book_appointment(task, TUESDAY_10, local_time(2026, 11, 24, 12), by=None)
    with pytest.raises(DomainError) as refused:
        inspections.book_slot(neighbour(), local_time(2026, 11, 24, 11), by=None)
    assert refused.value.code == "slot_taken"


def test_no_inspector_for_the_district_is_a_clear_refusal(area, frozen):
    elsewhere = make_customer(district="海淀区")
    assert free(elsewhere) == []
    with pytest.raises(DomainError) as refused:
        inspections.book_slot(elsewhere, TUESDAY_10, by=None)
    assert refused.value.code == "no_inspector"
    assert not InspectionTask.objects.exists()


def test_the_database_refuses_two_open_visits_of_one_inspector_at_one_time(area):
    first, second = (inspections.create_task(neighbour(), dt.date(2026, 12, 31)) for _ in range(2))
    InspectionTask.objects.filter(pk=first.pk).update(appointment_at=TUESDAY_10)
    with pytest.raises(IntegrityError), transaction.atomic():
        InspectionTask.objects.filter(pk=second.pk).update(appointment_at=TUESDAY_10)
    InspectionTask.objects.filter(pk=first.pk).update(status=TaskStatus.CANCELLED)
    InspectionTask.objects.filter(pk=second.pk).update(appointment_at=TUESDAY_10)  # a cancelled one frees it


def test_the_page_books_and_answers_refusals_with_4xx(client, area, frozen):
    customer = neighbour()
    client.force_login(make_user("customer", customer=customer))
    page = client.get("/safety/portal/inspections/").content.decode()
    assert page.count('data-testid="slot"') == len(free(customer)) and "Book a visit" in page
    past = client.post("/safety/portal/inspections/", {"starts_at": "2026-11-23T09:00:00+08:00"})
    junk = client.post("/safety/portal/inspections/", {"starts_at": "soon"})
    assert (past.status_code, junk.status_code) == (400, 400)
    assert "That time has passed" in past.content.decode()
    assert not InspectionTask.objects.exists()
    booked = client.post("/safety/portal/inspections/", {"starts_at": TUESDAY_10.isoformat()}, follow=True)
    assert "Your visit is booked for 2026-11-24 at 10:00" in booked.content.decode()
    assert "Move the visit to another time" in booked.content.decode()
    client.force_login(make_user("customer", customer=neighbour()))
    taken = client.post("/safety/portal/inspections/", {"starts_at": TUESDAY_10.isoformat()})
    assert taken.status_code == 409 and "Someone has just booked that slot" in taken.content.decode()
    assert InspectionTask.objects.count() == 1


def test_staff_may_not_use_the_customer_page(client, area):
    client.force_login(make_user("inspector"))
    assert client.get("/safety/portal/inspections/").status_code == 403


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_customers_taking_the_same_slot_at_once_one_wins_one_is_told(area):
    customers = [neighbour(), neighbour()]
    for customer in customers:  # each with a planned task, so both bookings reach the update
        inspections.create_task(customer, dt.date(2026, 12, 31), auto_assign=False)
    barrier = threading.Barrier(2)
    results: list = []

    def book(customer):
        try:
            barrier.wait()
            inspections.book_slot(customer, TUESDAY_10, by=None)
            results.append("booked")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(c,)) for c in customers]
    with time_machine.travel(MONDAY, tick=False):  # frozen for the whole process, threads too
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == ["booked", "slot_taken"]
    assert InspectionTask.objects.filter(appointment_at=TUESDAY_10).count() == 1
    loser = InspectionTask.objects.get(appointment_at__isnull=True)
    assert (loser.status, loser.inspector_id) == (TaskStatus.PLANNED, None)  # rolled back whole
