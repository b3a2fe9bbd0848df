"""The audit log at a city's size: the log and the ledger are read each in its own time order and
merged (no UNION sorted whole), and the pages come out exactly as the sorted union would."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.lib.pagination import CappedPaginator
from gasworks.system import auditlog
from gasworks.system.models import AuditEntry
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _interleaved(n: int):
    """n audit entries and n ledger payments at alternating times, some at the same instant."""
    customer = make_customer()
    base = timezone.now() - timedelta(days=1)
    for i in range(n):
        at = base + timedelta(minutes=2 * i)
        AuditEntry.objects.create(at=at, action="update", model="system.Parameter", object_id=str(i))
        ledger.post(customer, "payment", "1.00", at=at if i % 3 == 0 else at + timedelta(minutes=1))


def test_pages_are_the_sorted_union_newest_first_across_page_boundaries():
    _interleaved(12)
    log = auditlog.LogPage(auditlog.Filters()).query
    union = sorted(
        [row for part in log.parts for row in part], key=lambda row: (row[2], row[1]), reverse=True
    )
    paginator = CappedPaginator(log, 5)
    pages = [list(paginator.page(n).object_list) for n in paginator.page_range]
    assert [row for rows in pages for row in rows] == union
    assert paginator.count == len(union) >= 24 and len(pages) == -(-len(union) // 5)


def test_no_query_sorts_the_union_of_the_log_and_the_ledger(admin_client):
    _interleaved(3)
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get("/system/audit/").status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "UNION" in q["sql"].upper()]


@pytest.mark.postgres_only
def test_the_ledger_part_reads_its_time_index_backwards():
    _interleaved(3)
    (_audit, entries) = auditlog.LogPage(auditlog.Filters()).query.parts
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what an index gives
        plan = entries[:50].explain()
    assert "Index Scan Backward" in plan, plan
