"""The demo's history, seeded after every app has laid its own data: a billing run for each past
month with readings, counter payments for most accounts, a few left in arrears with late fees.
It goes through the real commands and services, so the demo shows what production would."""

import io
import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from itertools import groupby

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Bill
from gasworks.customers.models import Customer
from gasworks.metering.models import Reading
from gasworks.payments import services as payments
from gasworks.payments.models import Payment, Shift, ShiftStatus
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
    planned = _plan_payments(random.Random(11), today) if cashier else []
    shifts = _take_in_daily_shifts(planned, cashier)
    call_command("apply_late_fees", stdout=io.StringIO())
    stdout.write(
        f"history: {len(periods) - 1} billing runs, {len(planned)} counter payments in {shifts} closed "
        "shifts, late fees applied"
    )


def _plan_payments(rng, today) -> list[tuple]:
    """(when, customer, amount, method) of the demo's counter payments, oldest first. Each
    customer comes to the counter some days after a bill is issued and pays what it owes then,
    skipping a month now and then; about one in ten never pays (the arrears list) and about one
    in seven leaves the last bill open. Nothing is dated today or later: the dashboard's "today"
    shows only what really happens today."""
    planned = []
    limit = parameters.get("counter_max_amount")
    for customer in Customer.objects.filter(status="active").order_by("pk"):
        bills = list(Bill.objects.filter(customer=customer, status="issued").order_by("period"))
        owed_now = -ledger.balance(customer)
        roll = rng.random()
        if not bills or owed_now <= 0 or roll < 0.1:
            continue
        if roll < 0.25:
            bills = bills[:-1]
        due, paid = Decimal("0.00"), Decimal("0.00")
        for index, bill in enumerate(bills):
            due += bill.total
            visit = timezone.make_aware(
                datetime.combine(
                    bill.issued_on + timedelta(days=rng.randint(2, 24)),
                    time(rng.randint(8, 16), rng.randint(0, 59), rng.randint(0, 59)),
                )
            )
            last = index == len(bills) - 1
            if visit.date() >= today or (not last and rng.random() < 0.4):
                continue  # not yet, or this month skipped: it adds up to the next visit
            amount = min(due, owed_now - paid, limit)
            if amount > 0:
                planned.append((visit, customer, amount, rng.choice(METHODS)))
                paid += amount
            due = Decimal("0.00")
    planned.sort(key=lambda row: (row[0], row[1].pk))
    return planned


def _take_in_daily_shifts(planned, cashier) -> int:
    """Take the planned payments at their own times, one shift per day, each closed (日结) at
    half past five with the cash counted: the cashier starts the demo with no open shift."""
    shifts = 0
    for day, rows in groupby(planned, key=lambda row: timezone.localdate(row[0])):
        for at, customer, amount, method in rows:
            tendered = _tendered(amount) if method == "cash" else None
            payments.take_counter_payment(customer, amount, method, cashier, tendered=tendered, at=at)
        shift = Shift.objects.get(cashier=cashier, status=ShiftStatus.OPEN)
        cash = Decimal(payments.shift_totals(shift)["methods"]["cash"]["total"])
        closing = timezone.make_aware(datetime.combine(day, time(17, 30)))
        payments.close_shift(shift, cashier, cash_counted=cash or None, handed_to="财务室", at=closing)
        shifts += 1
    return shifts


def _tendered(amount: Decimal) -> Decimal:
    """Cash handed over: the amount rounded up to the next ten yuan."""
    return (amount / 10).to_integral_value(rounding=ROUND_CEILING) * 10


def _date_bills_as_issued_monthly(periods) -> None:
    """The demo bills a year at once; date each bill as if it had been issued on the first of
    the following month, so the arrears list and its aging buckets have a past to show."""
    due_days = int(parameters.get("bill_due_days"))
    for period in periods:
        year, month = int(period[:4]), int(period[5:])
        issued = date(year + month // 12, month % 12 + 1, 1)
        Bill.objects.filter(period=period).update(issued_on=issued, due_on=issued + timedelta(days=due_days))
