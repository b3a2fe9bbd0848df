"""The outbox's big batches (a run's chunk of notices) go by COPY on PostgreSQL: the same rows
as the ORM's path, and a batch queued again writes nothing twice."""

import pytest

from gasworks.notifications import outbox, store
from gasworks.notifications.models import Message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _rows():
    return sorted(
        Message.objects.values_list(
            "customer_id", "event", "channel", "key", "status", "variables", "address"
        )
    )


def _items(customers):
    return [
        (f"step:{n}", c.pk, {"amount": "300.00", "due_on": "2026-10-01"}) for n, c in enumerate(customers)
    ]


def test_a_big_batch_writes_what_a_small_one_writes(monkeypatch):
    customers = [make_customer(name=f"客户\t{n}\\") for n in range(6)]
    monkeypatch.setattr(store, "COPY_FROM", 1_000_000)  # the ORM's path
    outbox.enqueue("overdue_reminder", _items(customers))
    expected = _rows()
    Message.objects.all().delete()
    monkeypatch.setattr(store, "COPY_FROM", 2)  # COPY on PostgreSQL
    outbox.enqueue("overdue_reminder", _items(customers))
    outbox.enqueue("overdue_reminder", _items(customers))  # again: nothing new
    assert _rows() == expected and len(expected) == 6
