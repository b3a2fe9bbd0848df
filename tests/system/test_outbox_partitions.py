"""The notification outbox partitioned by month on PostgreSQL: the migration keeps every message,
a customer's key stays unique within a month (each partition's index) and across months (the
writer looks in every month), and the command gives the coming months their unique index."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from gasworks.lib import partitions
from gasworks.notifications import outbox
from gasworks.notifications.models import Message
from tests.factories import make_customer
from tests.system.test_partitions import _leaves, _migrate, local, this_month

OUTBOX = "notifications_message"
pytestmark = pytest.mark.postgres_only


def _insert(cursor, customer_id, key, at) -> int:
    cursor.execute(
        "INSERT INTO notifications_message (customer_id, event, channel, key, status, safety, language,"
        " variables, address, subject, text, attempts, provider, provider_ref, error, created_at)"
        " VALUES (%s, 'low_balance', 'portal', %s, 'sent', false, 'zh-hans', '{}', '', '', 'x', 1, 'portal',"
        " '', '', %s) RETURNING id",
        [customer_id, key, at],
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_outbox_migration_keeps_every_message_and_the_one_key_per_customer_rule():
    customer = make_customer()
    months = [this_month(-2), this_month(-1), this_month(0)]
    try:
        _migrate([("notifications", "0004_message_customer_key")])
        with connection.cursor() as cursor:
            assert not partitions.is_partitioned(cursor, OUTBOX)
            ids = [_insert(cursor, customer.pk, f"k{n}", local(m, 10, 9)) for n, m in enumerate(months)]
        before = list(Message.objects.order_by("pk").values_list("pk", "key", "created_at", "text"))
        _migrate(_leaves())
        with connection.cursor() as cursor:
            assert partitions.is_partitioned(cursor, OUTBOX)
            names = partitions.attached(cursor, OUTBOX)
        assert {partitions.partition_name(OUTBOX, m) for m in months} <= set(names)
        assert list(Message.objects.order_by("pk").values_list("pk", "key", "created_at", "text")) == before
        # Within its month the key is refused by the partition's unique index...
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            _insert(cursor, customer.pk, "k1", local(months[1], 20))
        with connection.cursor() as cursor:  # ... and ids go on after the copied ones
            assert _insert(cursor, customer.pk, "k9", local(months[2], 11)) > max(ids)
    finally:
        _migrate(_leaves())


@pytest.mark.django_db
def test_a_key_told_last_month_is_not_queued_again_this_month_by_either_insert(monkeypatch):
    from gasworks.notifications import store

    people = [make_customer() for _ in range(3)]
    last_month = local(this_month(-1), 28, 10)
    outbox.enqueue("low_balance", [("low:1", people[0].pk, {"balance": "5.00"})], at=last_month)
    outbox.enqueue("low_balance", [("low:1", people[1].pk, {"balance": "5.00"})], at=last_month)
    first = Message.objects.count()
    each = first // 2  # one a channel the customer gets
    assert each >= 1 and Message.objects.filter(created_at=last_month).count() == first
    now = timezone.now()
    outbox.enqueue("low_balance", [("low:1", p.pk, {"balance": "5.00"}) for p in people], at=now)
    assert Message.objects.count() == first + each  # only the third customer's
    monkeypatch.setattr(store, "COPY_FROM", 1)  # the big batch's path: COPY and one INSERT ... SELECT
    outbox.enqueue(
        "low_balance", [("low:2", p.pk, {}) for p in people] + [("low:1", people[0].pk, {})], at=now
    )
    assert Message.objects.count() == first + each + 3 * each
    assert Message.objects.filter(key__startswith="low_balance:low:1:").count() == 3 * each


@pytest.mark.django_db
def test_a_month_the_command_makes_has_its_unique_index():
    customer = make_customer()
    month = this_month(5)
    partitions.ensure_months(OUTBOX, "created_at", ahead=5, today=timezone.localdate())
    with connection.cursor() as cursor:
        assert partitions.partition_name(OUTBOX, month) in partitions.attached(cursor, OUTBOX)
        _insert(cursor, customer.pk, "k", local(month, 3))
        with pytest.raises(IntegrityError), transaction.atomic():
            _insert(cursor, customer.pk, "k", local(month, 4))
        # A row of a month with no partition yet waits in the upper edge and keeps the rule there too.
        far = local(partitions.add_months(month, 12), 1)
        _insert(cursor, customer.pk, "far", far)
        with pytest.raises(IntegrityError), transaction.atomic():
            _insert(cursor, customer.pk, "far", far + dt.timedelta(days=1))
