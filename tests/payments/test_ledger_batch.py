"""ledger.post_many: many entries with post()'s rules in one go."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from gasworks.billing import ledger
from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.errors import InvalidInput
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_it_appends_in_row_order_with_running_balances():
    a, b = make_customer(), make_customer()
    ledger.post(a, EntryKind.CHARGE, Decimal("-30"))
    rows = [
        ledger.Posting(a.pk, EntryKind.PAYMENT, Decimal("10"), "r1", "k1"),
        ledger.Posting(b.pk, EntryKind.PAYMENT, Decimal("5.5"), "r2", "k2"),
        ledger.Posting(a.pk, EntryKind.PAYMENT, Decimal("50"), "r3", "k3"),
    ]
    entries = ledger.post_many(rows)
    assert [e.balance_after for e in entries] == [Decimal("-20.00"), Decimal("5.50"), Decimal("30.00")]
    assert all(e.pk for e in entries)
    assert ledger.balance(a) == Decimal("30.00") and ledger.balance(b) == Decimal("5.50")
    # b had no account yet: created on the way
    assert Account.objects.filter(customer=b).exists()


def test_it_posts_a_key_once_across_calls_and_within_one_call():
    customer = make_customer()
    first = ledger.post(customer, EntryKind.PAYMENT, Decimal("7"), idempotency_key="once")
    rows = [
        ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("7"), idempotency_key="once"),
        ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("3"), idempotency_key="new"),
        ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("3"), idempotency_key="new"),
    ]
    entries = ledger.post_many(rows)
    assert entries[0].pk == first.pk
    assert entries[1] is entries[2]
    assert LedgerEntry.objects.count() == 2
    assert ledger.balance(customer) == Decimal("10.00")
    assert ledger.post_many(rows)[1].pk == entries[1].pk
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize(("kind", "amount"), [("bogus", Decimal("1")), (EntryKind.PAYMENT, Decimal("0.001"))])
def test_it_refuses_a_bad_row_and_writes_nothing(kind, amount):
    customer = make_customer()
    rows = [
        ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("1")),
        ledger.Posting(customer.pk, kind, amount),
    ]
    with pytest.raises(InvalidInput):
        ledger.post_many(rows)
    assert LedgerEntry.objects.count() == 0
    assert ledger.balance(customer) == Decimal("0.00")


def test_fresh_rows_skip_the_key_lookup_but_keep_the_running_balances():
    customer = make_customer()  # no account yet: the first posting opens it
    rows = [
        ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("10"), "r1", "fresh-1"),
        ledger.Posting(customer.pk, EntryKind.CHARGE, Decimal("-4.25"), "r2", "fresh-2"),
    ]
    with CaptureQueriesContext(connection) as queries:
        entries = ledger.post_many(rows, fresh=True)
    assert not [q for q in queries if "idempotency_key" in q["sql"] and q["sql"].startswith("SELECT")]
    assert [e.balance_after for e in entries] == [Decimal("10.00"), Decimal("5.75")]
    assert ledger.balance(customer) == Decimal("5.75")
    more = ledger.post_many(
        [ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("1"), "", "fresh-3")], fresh=True
    )
    assert more[0].balance_after == Decimal("6.75")
    assert [e.balance_after for e in LedgerEntry.objects.order_by("pk")] == [
        Decimal("10.00"),
        Decimal("5.75"),
        Decimal("6.75"),
    ]


def test_a_fresh_row_whose_key_was_posted_is_refused_by_the_constraint_and_writes_nothing():
    customer = make_customer()
    ledger.post(customer, EntryKind.PAYMENT, Decimal("7"), idempotency_key="taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger.post_many(
            [ledger.Posting(customer.pk, EntryKind.PAYMENT, Decimal("7"), "", "taken")], fresh=True
        )
    assert LedgerEntry.objects.count() == 1
    assert ledger.balance(customer) == Decimal("7.00")
