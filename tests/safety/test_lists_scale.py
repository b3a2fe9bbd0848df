"""Safety lists at a city's size: the checklist versions count items and inspections each in its
own subquery (no join of every item with every inspection), and the inspection list is read in
its order from inspection_due_idx."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gasworks.safety.models import ChecklistTemplate, InspectionTask
from gasworks.safety.services import checklists
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_checklist_versions_show_their_items_and_inspections_counted_apart(admin_client):
    template = checklists.ensure_standard()
    items = template.items.count()
    customer = make_customer()
    for _n in range(3):  # done inspections: a customer has at most one open task
        InspectionTask.objects.create(
            customer=customer,
            premises=customer.premises,
            kind="routine",
            due_on="2026-01-01",
            template=template,
            status="completed",
        )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/safety/checklists/")
    version = next(v for v in response.context["versions"] if v.pk == template.pk)
    assert (version.items_count, version.used) == (items, 3)  # not items x inspections
    listing = [q["sql"] for q in queries.captured_queries if "safety_checklisttemplate" in q["sql"]]
    assert listing and not [sql for sql in listing if "LEFT OUTER JOIN" in sql.upper()]
    assert ChecklistTemplate.objects.count() >= 1


@pytest.mark.postgres_only
def test_the_inspection_list_reads_its_order_from_the_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what an index gives
        plan = InspectionTask.objects.order_by("due_on", "pk")[:25].explain()
    assert "inspection_due_idx" in plan and "Sort" not in plan, plan
