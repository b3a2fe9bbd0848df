import datetime

import pytest
import time_machine
from django.utils import timezone

from gasworks.errors import DomainError, InvalidInput
from gasworks.safety.models import Hazard, InspectionTask, InspectorArea, ItemResult, TaskKind, TaskStatus
from gasworks.safety.services import inspections
from gasworks.safety.services.inspections import ResultInput, add_months
from tests.factories import make_customer
from tests.safety.conftest import all_pass


def test_it_adds_months_clamping_to_month_end():
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add_months(datetime.date(2023, 1, 31), 1) == datetime.date(2023, 2, 28)
    assert add_months(datetime.date(2024, 11, 15), 24) == datetime.date(2026, 11, 15)
    assert add_months(datetime.date(2024, 12, 1), 1) == datetime.date(2025, 1, 1)


def test_it_assigns_a_new_task_by_district(personas):
    customer = make_customer(district="朝阳区")
    InspectorArea.objects.create(district="朝阳区", inspector=personas["inspector"])
    task = inspections.create_task(customer, datetime.date(2026, 5, 1))
    assert task.status == TaskStatus.ASSIGNED
    assert task.inspector == personas["inspector"]
    other = inspections.create_task(make_customer(district="海淀区"), datetime.date(2026, 5, 1))
    assert other.status == TaskStatus.PLANNED and other.inspector is None


def test_it_refuses_a_second_open_task_and_a_non_inspector(personas):
    customer = make_customer()
    inspections.create_task(customer, datetime.date(2026, 5, 1))
    with pytest.raises(DomainError) as exc:
        inspections.create_task(customer, datetime.date(2026, 6, 1))
    assert exc.value.code == "task_exists"
    with pytest.raises(InvalidInput) as exc:
        inspections.create_task(make_customer(), datetime.date(2026, 5, 1), inspector=personas["cashier"])
    assert exc.value.code == "not_an_inspector"
    assert InspectionTask.objects.count() == 1


def test_it_walks_every_task_transition(personas, template):
    inspector = personas["inspector"]
    task = inspections.create_task(make_customer(), datetime.date(2026, 5, 1), auto_assign=False)
    assert task.status == TaskStatus.PLANNED
    with pytest.raises(DomainError) as exc:
        inspections.start(task, by=inspector)  # planned → in_progress is not allowed
    assert exc.value.code == "invalid_transition"
    task = inspections.assign(task, inspector)
    task = inspections.assign(task, inspector)  # reassignment stays assigned
    task = inspections.start(task, by=inspector)
    assert task.status == TaskStatus.IN_PROGRESS and task.started_at
    with pytest.raises(DomainError):
        inspections.assign(task, inspector)
    task = inspections.complete(
        task, all_pass(template), by=inspector, confirmed_by_name="王", customer_confirmed=True
    )
    assert task.status == TaskStatus.COMPLETED
    for verb in (
        lambda t: inspections.start(t, by=inspector),
        lambda t: inspections.cancel(t, "x", by=inspector),
        lambda t: inspections.nobody_home(t, by=inspector),
    ):
        with pytest.raises(DomainError) as exc:
            verb(task)
        assert exc.value.code == "invalid_transition"
    cancelled = inspections.create_task(make_customer(), datetime.date(2026, 5, 1))
    cancelled = inspections.cancel(cancelled, "moved away", by=inspector)
    assert cancelled.status == TaskStatus.CANCELLED
    with pytest.raises(InvalidInput):
        inspections.cancel(
            inspections.create_task(make_customer(), datetime.date(2026, 5, 1)), " ", by=inspector
        )


def test_it_completes_a_checklist_and_raises_a_hazard_per_failed_item(personas, template):
    inspector = personas["inspector"]
    customer = make_customer()
    task = inspections.create_task(customer, datetime.date(2026, 5, 1), inspector=inspector)
    results = all_pass(template, hose=("fail", "hose cracked"), alarm=("na", ""))
    done = inspections.complete(
        task, results, by=inspector, confirmed_by_name="张三", customer_confirmed=True, signature="张三"
    )
    assert done.template == template and done.finished_at
    assert ItemResult.objects.filter(task=done).count() == template.items.count()
    hazard = Hazard.objects.get(customer=customer)
    assert hazard.level == "key"  # the hose item's level
    assert hazard.item_result.item.code == "hose"
    assert "hose cracked" in hazard.description
    assert hazard.deadline == timezone.localdate() + datetime.timedelta(days=15)


def test_it_refuses_an_incomplete_checklist_and_writes_nothing(personas, template):
    inspector = personas["inspector"]
    task = inspections.create_task(make_customer(), datetime.date(2026, 5, 1), inspector=inspector)
    results = [*all_pass(template, hose=("fail", ""))[:-1], ResultInput("bogus", "pass")]
    with pytest.raises(InvalidInput) as exc:
        inspections.complete(task, results, by=inspector, confirmed_by_name="", customer_confirmed=False)
    fields = exc.value.fields
    assert "results" in fields and "confirmed_by_name" in fields and "customer_confirmed" in fields
    assert any(key.endswith(".note") for key in fields)
    assert any(key.endswith(".item") for key in fields)
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED
    assert not ItemResult.objects.exists() and not Hazard.objects.exists()


def test_it_plans_a_follow_up_when_nobody_is_home(personas):
    inspector = personas["inspector"]
    task = inspections.create_task(make_customer(), datetime.date(2026, 5, 1), inspector=inspector)
    follow = inspections.nobody_home(task, "door locked", by=inspector)
    task.refresh_from_db()
    assert task.status == TaskStatus.NOBODY_HOME and task.note == "door locked"
    assert follow.kind == TaskKind.FOLLOW_UP and follow.follow_up_of == task
    assert follow.status == TaskStatus.ASSIGNED and follow.inspector == inspector
    assert follow.due_on == timezone.localdate() + datetime.timedelta(days=7)


@pytest.mark.django_db
def test_it_plans_due_inspections_around_the_due_date(personas, template):
    inspector = personas["inspector"]
    InspectorArea.objects.create(district="朝阳区", inspector=inspector)
    with time_machine.travel(datetime.datetime(2024, 3, 10, 10, tzinfo=datetime.UTC)):
        residential = make_customer(district="朝阳区")  # opened 2024-03-10: due 2026-03-10
        commercial = make_customer(category="commercial", district="海淀区")  # due 2025-03-10
    InspectionTask.objects.filter(
        customer__in=[personas["own_customer"], personas["other_customer"]]
    ).delete()
    # 31 days before the commercial due date: nothing yet (lead time 30 days).
    result = inspections.plan_due(datetime.date(2025, 2, 7))
    assert not InspectionTask.objects.filter(customer__in=[residential, commercial]).exists()
    # Exactly 30 days before: planned, unassigned (no area for 海淀区), due on the due date.
    result = inspections.plan_due(datetime.date(2025, 2, 8))
    task = InspectionTask.objects.get(customer=commercial)
    assert task.due_on == datetime.date(2025, 3, 10) and task.status == TaskStatus.PLANNED
    assert result.created >= 1
    # Rerunning does not duplicate.
    inspections.plan_due(datetime.date(2025, 2, 9))
    assert InspectionTask.objects.filter(customer=commercial).count() == 1
    # The residential one comes due two years after opening, and goes to the area's inspector.
    inspections.plan_due(datetime.date(2026, 2, 8))
    res_task = InspectionTask.objects.get(customer=residential)
    assert res_task.due_on == datetime.date(2026, 3, 10)
    assert res_task.inspector == inspector and res_task.status == TaskStatus.ASSIGNED
    # Completing it moves the next due date to completion + 24 months.
    with time_machine.travel(datetime.datetime(2026, 3, 1, 3, tzinfo=datetime.UTC)):
        inspections.complete(
            res_task, all_pass(template), by=inspector, confirmed_by_name="x", customer_confirmed=True
        )
    inspections.plan_due(datetime.date(2028, 1, 30))
    assert InspectionTask.objects.filter(customer=residential).count() == 1
    inspections.plan_due(datetime.date(2028, 1, 31))
    latest = InspectionTask.objects.filter(customer=residential).latest("pk")
    assert latest.due_on == datetime.date(2028, 3, 1) and latest.kind == TaskKind.ROUTINE


def test_it_skips_closed_and_suspended_accounts_when_planning(personas):
    from gasworks.customers import services as customer_services

    customer = make_customer()
    customer_services.change_status(customer, "suspended", "arrears", by=personas["admin"])
    inspections.plan_due(datetime.date(2099, 1, 1))
    assert not InspectionTask.objects.filter(customer=customer).exists()
    assert InspectionTask.objects.filter(customer=personas["own_customer"]).exists()
