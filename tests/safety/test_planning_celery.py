"""Inspection planning on real Celery workers (processes, the machine's Redis, PostgreSQL): the
worker planning is killed with SIGKILL between two batches (the first committed), the task is
delivered again, and the cycle ends with exactly one routine task per premises."""

from datetime import timedelta

import pytest
from django.utils import timezone

from gasworks.customers.models import Customer
from gasworks.safety import tasks
from gasworks.safety.models import InspectionTask
from tests.celery_harness import wait_for
from tests.factories import make_customer

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_planning_killed_between_batches_and_run_again_plans_each_premises_once(celery_workers):
    customers = [make_customer() for _ in range(7)]
    # Opened five years ago and never inspected: every one is due.
    Customer.objects.update(opened_on=timezone.localdate() - timedelta(days=5 * 366))
    for name in ("one", "two"):
        celery_workers.start(name, stall="plan-batch", CHUNK="3")  # batches of 3, 3 and 1

    tasks.plan_inspections.delay()
    celery_workers.kill(celery_workers.stalled())
    assert InspectionTask.objects.count() == 3  # the first batch's

    tasks.plan_inspections.delay()  # delivered again, to the worker left
    wait_for(lambda: InspectionTask.objects.count() >= 7, 120, "the second run")
    planned = list(InspectionTask.objects.values_list("customer_id", "premises_id", "kind", "due_on"))
    assert sorted(p[1] for p in planned) == sorted(c.premises_id for c in customers)
    assert sorted(p[0] for p in planned) == sorted(c.pk for c in customers)
    assert {(kind, due) for _c, _p, kind, due in planned} == {("routine", planned[0][3])}
