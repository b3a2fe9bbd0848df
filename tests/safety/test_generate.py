"""Benchmark data: generate_data's safety hook writes an inspection history the planner can use."""

import datetime
import io

from django.core.management import call_command
from django.utils import timezone

from gasworks.customers.management.commands import generate_data
from gasworks.customers.models import Customer
from gasworks.safety import generate
from gasworks.safety.models import InspectionTask, TaskKind, TaskStatus
from gasworks.safety.services import inspections
from tests.factories import make_customer


def test_it_is_registered_as_a_generator():
    assert generate.generate in generate_data.EXTRA_GENERATORS


def test_it_gives_generated_customers_a_history_the_planner_plans_from(db, monkeypatch):
    monkeypatch.setattr(generate_data, "EXTRA_GENERATORS", [generate.generate])
    out = io.StringIO()
    call_command("generate_data", customers=400, no_progress=True, stdout=out)
    assert "safety:" in out.getvalue()
    today = timezone.localdate()
    history = list(InspectionTask.objects.select_related("customer"))
    assert len(history) > 200
    assert {t.status for t in history} <= {TaskStatus.COMPLETED, TaskStatus.NOBODY_HOME}
    for task in history:
        assert task.customer.opened_on <= task.finished_at.date() <= today
        assert task.premises_id == task.customer.premises_id
        assert (task.template_id is not None) == (task.status == TaskStatus.COMPLETED)
    assert Customer.objects.filter(opened_on__lt=today - datetime.timedelta(days=365)).count() > 200

    # What the planner should create, worked out one customer at a time.
    horizon = today + datetime.timedelta(days=30)
    expected = {
        c.pk
        for c in Customer.objects.all()
        if inspections.due_on(c, inspections.last_inspected_on(c)) <= horizon
    }
    assert 0 < len(expected) < 400
    result = inspections.plan_due(today, lead_days=30)
    planned = set(
        InspectionTask.objects.filter(kind=TaskKind.ROUTINE, status__in=["planned", "assigned"]).values_list(
            "customer_id", flat=True
        )
    )
    assert planned == expected and result.created == len(expected)
    assert inspections.plan_due(today, lead_days=30).created == 0


def test_it_plans_the_rest_of_a_batch_when_another_run_took_a_customer(db):
    first, second = make_customer(), make_customer()
    inspections.create_task(first, datetime.date(2026, 1, 1))  # the other run's task
    batch = [
        InspectionTask(
            customer=c,
            premises=c.premises,
            district="",
            kind=TaskKind.ROUTINE,
            due_on=datetime.date(2026, 2, 1),
        )
        for c in (first, second)
    ]
    result = inspections.PlanResult()
    inspections._insert_batch(batch, result)
    assert (result.created, result.skipped) == (1, 1)
    assert InspectionTask.objects.filter(customer=second, kind=TaskKind.ROUTINE).count() == 1
    assert InspectionTask.objects.filter(customer=first).count() == 1
