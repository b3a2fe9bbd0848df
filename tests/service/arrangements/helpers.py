"""Arrangement test data: bills charged through the ledger (as a billing run posts them), payments
through the counter (the real money path, PaymentReceived included)."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Bill, EntryKind
from gasworks.payments import services as payments

TODAY = date(2026, 11, 27)


def bill(customer, period: str, total, due_on: date) -> Bill:
    """An issued bill, charged to the ledger."""
    year, month = (int(x) for x in period.split("-"))
    start = date(year, month, 1)
    made = Bill.objects.create(
        customer=customer,
        period=period,
        period_start=start,
        period_end=start + timedelta(days=28),
        volume=Decimal("10.000"),
        total=Decimal(total),
        issued_on=due_on - timedelta(days=15),
        due_on=due_on,
        created_at=timezone.now(),
    )
    ledger.post(customer, EntryKind.CHARGE, -Decimal(total), idempotency_key=f"bill:{made.pk}")
    return made


def in_debt(customer, *amounts: str) -> list[Bill]:
    """Overdue bills of ``amounts`` (September, October, ...), due long before TODAY."""
    return [
        bill(
            customer, f"2026-{9 + i:02d}", amount, date(2026, 9 + i, 15) if 9 + i < 11 else date(2026, 11, 10)
        )
        for i, amount in enumerate(amounts)
    ]


def pay(customer, amount: str, cashier):
    return payments.take_counter_payment(customer, amount, "cash", cashier)
