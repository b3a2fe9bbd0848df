"""Collections test data: overdue bills charged through the ledger, a frozen "today"."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Bill, EntryKind

TODAY = date(2026, 11, 25)  # a Wednesday
NOW = timezone.make_aware(datetime(2026, 11, 25, 10))
DUE = date(2026, 10, 1)
_month = itertools.count(1)


def overdue_bill(customer, total="300.00", due_on: date = DUE) -> Bill:
    """An issued bill due on ``due_on``, charged to the account (nothing paid)."""
    total = Decimal(total)
    issued = due_on - timedelta(days=15)
    n = next(_month)
    bill = Bill.objects.create(
        customer=customer,
        period=f"{2000 + n // 12:04d}-{n % 12 + 1:02d}",
        period_start=issued,
        period_end=issued + timedelta(days=28),
        volume=Decimal("100.000"),
        total=total,
        issued_on=issued,
        due_on=due_on,
        created_at=timezone.make_aware(datetime(issued.year, issued.month, issued.day, 9)),
    )
    ledger.post(customer, EntryKind.CHARGE, -total, idempotency_key=f"bill:{bill.pk}")
    return bill


def days_after(day: date, n: int) -> date:
    return day + timedelta(days=n)
