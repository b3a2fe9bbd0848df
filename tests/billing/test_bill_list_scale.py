"""The bill list at a city's size: a page costs the same queries however many bills there are,
its count stops at the cap, and on PostgreSQL its order and period filter are read from
bill_period_customer_idx instead of sorting every bill."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gasworks.billing.models import Bill
from gasworks.lib import pagination
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _bills(customers: int, periods: list[str]) -> None:
    now = timezone.now()
    rows = []
    for n in range(customers):
        customer = make_customer(name=f"户{n}")
        for period in periods:
            start = date(int(period[:4]), int(period[5:]), 1)
            rows.append(
                Bill(
                    customer=customer,
                    period=period,
                    period_start=start,
                    period_end=start + timedelta(days=31),
                    volume=Decimal("10.000"),
                    total=Decimal("26.10"),
                    issued_on=start,
                    due_on=start,
                    created_at=now,
                )
            )
    Bill.objects.bulk_create(rows)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_page_of_bills_costs_the_same_queries_however_many_bills(admin_client):
    _bills(2, ["2026-01"])
    admin_client.get("/billing/bills/")  # the first request of a session caches what it may
    few = _queries(admin_client, "/billing/bills/")
    assert few <= 9
    _bills(30, ["2026-01", "2026-02"])
    assert _queries(admin_client, "/billing/bills/") == few
    assert _queries(admin_client, "/billing/bills/?period=2026-02") == few


def test_the_newest_period_comes_first_in_customer_order(admin_client):
    _bills(3, ["2026-01", "2026-02"])
    page = admin_client.get("/billing/bills/").context["page"]
    keys = [(b.period, b.customer_id) for b in page.object_list]
    assert keys == sorted(keys, key=lambda k: (-int(k[0].replace("-", "")), k[1]))
    assert keys[0][0] == "2026-02"


def test_beyond_the_cap_the_pager_says_more_than(admin_client, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 30)
    _bills(40, ["2026-01"])
    page = admin_client.get("/billing/bills/")
    assert page.context["page"].paginator.count == 30
    assert "more than 30 rows" in page.content.decode()


@pytest.mark.postgres_only
def test_the_list_and_its_period_filter_read_the_index_without_sorting():
    from gasworks.billing.views import bill_queryset

    _bills(3, ["2026-01", "2026-02"])
    with connection.cursor() as cursor:
        # A tiny table: ask what an ordered index scan gives (a bitmap scan, chosen or not by the
        # tiny table's statistics of the moment, returns rows out of order and needs a sort).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for queryset in (bill_queryset(), bill_queryset().filter(period="2026-01")):
            plan = queryset[:25].explain()
            assert "bill_period_customer_idx" in plan and "Sort" not in plan, plan
