"""The demo's history: counter payments carry their own past dates, spread over the demo's
months, in daily shifts that are all closed, with a consistent ledger."""

import io
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from gasworks.billing.models import LedgerEntry
from gasworks.billing.verify import verify_ledger
from gasworks.payments.models import Payment, Shift
from gasworks.top import demo
from tests.billing.helpers import beijing, local, read
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

TODAY = local(2026, 11, 20, 10)


@pytest.fixture
def history():
    with time_machine.travel(local(2026, 6, 1), tick=False):
        beijing()
        customers = [make_customer() for _ in range(10)]
        cashier = make_user("cashier")
    for customer in customers:
        for month in (6, 7, 8, 9, 10, 11):
            read(customer, 20 + month, local(2026, month, 25), value=Decimal(100 + 30 * month))
    with time_machine.travel(TODAY, tick=False):
        demo.seed(io.StringIO())
    return customers, cashier


def test_demo_payments_carry_past_dates_over_the_months_in_closed_shifts(history, client):
    _customers, cashier = history
    paid = list(Payment.objects.order_by("paid_at", "pk"))
    assert len(paid) > len(history[0])  # more than one visit per paying customer
    start_of_today = timezone.make_aware(timezone.datetime(2026, 11, 20))
    assert all(p.paid_at == p.created_at < start_of_today for p in paid)
    months = {timezone.localtime(p.paid_at).strftime("%Y-%m") for p in paid}
    assert len(months) >= 3, months
    # Every payment sits in a closed shift of its own day, closed that evening with its totals.
    assert not Shift.objects.filter(cashier=cashier, status="open").exists()
    by_shift = defaultdict(list)
    for p in paid:
        by_shift[p.shift_id].append(p)
    for shift in Shift.objects.filter(pk__in=by_shift):
        rows = by_shift[shift.pk]
        assert shift.status == "closed"
        assert {timezone.localdate(p.paid_at) for p in rows} == {timezone.localdate(shift.closed_at)}
        assert shift.opened_at <= min(p.paid_at for p in rows) and shift.closed_at > max(
            p.paid_at for p in rows
        )
        assert Decimal(shift.totals["total"]) == sum(p.amount for p in rows)
    # The ledger entry of each payment has the payment's time, and the ledger verifies.
    for p in paid:
        assert LedgerEntry.objects.get(idempotency_key=f"payment:{p.pk}").created_at == p.paid_at
    assert verify_ledger()[1] == []
    # Receipt numbers run in time order within each year's book.
    numbers = [int(p.receipt_no.rsplit("-", 1)[1]) for p in paid]
    assert numbers == list(range(1, len(paid) + 1))
    with time_machine.travel(TODAY, tick=False):
        client.force_login(make_user("admin"))
        sections = client.get("/").context["sections"]
    tiles = {t.label: t.value for s in sections for t in s["tiles"]}
    assert tiles["Payments today"] == 0 and tiles["Taken today"] == Decimal("0.00")
