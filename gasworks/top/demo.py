"""The demo's history, seeded after every app has laid its own data: a billing run for each past
month with readings, counter payments for most accounts, a few left in arrears with late fees.
It goes through the real commands and services, so the demo shows what production would."""

import io
import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Bill
from gasworks.customers.models import Customer
from gasworks.metering.models import Reading
from gasworks.payments import services as payments
from gasworks.payments.models import Payment
from gasworks.system import parameters

METHODS = ["cash", "cash", "cash", "card", "bank"]


def _months(first, last):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


def seed(stdout) -> None:
    span = Reading.objects.aggregate(first=Min("taken_at"), last=Max("taken_at"))
    if span["first"] is None:
        return
    today = timezone.localdate()
    first, last = timezone.localdate(span["first"]), timezone.localdate(span["last"])
    periods = [p for p in _months(first, last) if p < f"{today.year:04d}-{today.month:02d}"]
    for period in periods[1:]:  # the first month only opens the meters' history
        if not Bill.objects.filter(period=period).exists():
            call_command("billing_run", period, no_progress=True, stdout=io.StringIO())
    _date_bills_as_issued_monthly(periods[1:])
    if Payment.objects.exists():
        stdout.write("history: payments already present")
        return
    cashier = get_user_model().objects.filter(role="cashier", is_active=True).order_by("pk").first()
    rng = random.Random(11)
    paid = 0
    for customer in Customer.objects.filter(status="active").order_by("pk"):
        owed = -ledger.balance(customer)
        roll = rng.random()
        if owed <= 0 or cashier is None or roll < 0.1:
            continue  # about one in ten leaves everything unpaid (the arrears list)
        if roll < 0.25:
            last_bill = Bill.objects.filter(customer=customer).order_by("-period").first()
            owed -= last_bill.total if last_bill else Decimal("0")
        if owed > 0:
            method = rng.choice(METHODS)
            tendered = owed if method == "cash" else None
            payments.take_counter_payment(customer, owed, method, cashier, tendered=tendered)
            paid += 1
    call_command("apply_late_fees", stdout=io.StringIO())
    stdout.write(f"history: {len(periods) - 1} billing runs, {paid} counter payments, late fees applied")


def _date_bills_as_issued_monthly(periods) -> None:
    """The demo bills a year at once; date each bill as if it had been issued on the first of
    the following month, so the arrears list and its aging buckets have a past to show."""
    due_days = int(parameters.get("bill_due_days"))
    for period in periods:
        year, month = int(period[:4]), int(period[5:])
        issued = date(year + month // 12, month % 12 + 1, 1)
        Bill.objects.filter(period=period).update(issued_on=issued, due_on=issued + timedelta(days=due_days))
