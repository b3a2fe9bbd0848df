"""CappedPaginator: counts no further than its cap (a LIMIT inside the count), exact below it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gasworks.customers.models import Customer
from gasworks.lib.pagination import CappedPaginator
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_it_counts_no_further_than_the_cap_and_says_there_are_more():
    for n in range(5):
        make_customer(name=f"户{n}")
    paginator = CappedPaginator(Customer.objects.order_by("pk"), 2, cap=3)
    with CaptureQueriesContext(connection) as queries:
        count = paginator.count
    assert count == 3 and paginator.capped is True
    assert paginator.num_pages == 2  # the pages of the rows counted, no deeper
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(" in sql.upper() and "LIMIT 4" in sql.upper()  # the count stops after cap + 1 rows
    assert [c.name for c in paginator.get_page(99)] == ["户2"]  # a page past the cap: the last one counted


def test_below_the_cap_the_count_is_exact():
    for n in range(2):
        make_customer(name=f"户{n}")
    paginator = CappedPaginator(Customer.objects.order_by("pk"), 2, cap=3)
    assert paginator.count == 2 and paginator.capped is False and paginator.num_pages == 1


def test_exactly_the_cap_is_not_more():
    for n in range(3):
        make_customer(name=f"户{n}")
    paginator = CappedPaginator(Customer.objects.order_by("pk"), 2, cap=3)
    assert paginator.count == 3 and paginator.capped is False
