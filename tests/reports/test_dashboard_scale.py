"""The dashboard's "readings this month" at a city's size: every status counted, and on
PostgreSQL the range read from the (status, taken_at) index instead of every reading."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from gasworks.metering.models import ReadingStatus
from gasworks.reports.dashboard import readings_since
from tests.billing.helpers import read
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_readings_of_every_status_since_the_start_are_counted():
    customer = make_customer()
    now = timezone.now()
    for n, status in enumerate(ReadingStatus.values):
        read(customer, 1, now - timedelta(minutes=n + 1), status=status, value=100 + n)
    read(customer, 1, now - timedelta(days=40), value=50)  # before the start
    assert readings_since(now - timedelta(days=1)).count() == len(ReadingStatus.values)


@pytest.mark.postgres_only
def test_the_count_reads_the_status_time_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what an index gives
        # As count() sends it: no ordering (with the partitions' range edges, an ordered read can
        # merge the months' (meter, time) indexes instead, which says nothing about the count).
        plan = readings_since(timezone.now()).order_by().explain()
    # Both columns bound the index scan (taken_at alone would walk the whole index).
    # The index is reading_status_time_idx; on the partitioned table (PostgreSQL) each month's
    # partition has its copy, named by PostgreSQL after the partition.
    assert re.search(r"reading_status_time_idx|metering_reading_\w+_status_taken_at_idx", plan), plan
    assert any(
        "Index Cond" in line and "status" in line and "taken_at" in line for line in plan.splitlines()
    ), plan


@pytest.mark.postgres_only
def test_payments_taken_today_are_found_by_the_paid_at_block_index():
    from gasworks.payments.models import Payment

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what an index gives
        # The paid_at bound alone: on an empty table the planner takes any index for the status.
        plan = Payment.objects.filter(paid_at__gte=timezone.now()).order_by().explain()
    assert "payment_paid_at_brin" in plan, plan
