"""Benchmark data: payments on every channel for most generated bills (generate_data --months).

Hooked into billing's generator (billing.generate.AFTER_BILLS): after a chunk of a month's bills
is written, the customers of that chunk pay, before the next month is billed, so each ledger
stays in time order. Who pays how is fixed per customer (a hash of its id), so a year shows
habits rather than noise:

- most pay the bill in full within the due days, some late (after the due date but before the
  next bill: after the month's fee day, with the late fee charged on the bill), a few pay half of
  it every month;
- one in twenty stopped paying some months ago (1 to 12): the arrears of every age;
- each customer keeps to one channel: cash, bank card or transfer at the counter (in a
  generated cashier's shift of that day), the bank statement, Alipay or WeChat Pay.

Written set-based: payment rows by COPY on PostgreSQL (payments.store.write_generated), their
ledger entries through ledger.SetPosting (the ledger stays the one writer of money), receipt
numbers taken from the station's book in one step per chunk. The shifts are closed at the end
with their totals (generate(), run after billing's generator)."""

import datetime as dt
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Bill, BillStatus, EntryKind
from gasworks.lib.db import DecimalSum
from gasworks.payments import store
from gasworks.payments.models import (
    COUNTER_METHODS,
    PAID_STATUSES,
    Method,
    Payment,
    PaymentStatus,
    Shift,
    ShiftStatus,
)

# A counter (one cashier) per block of this many customer ids: customers pay at their local
# counter, some 150 counter payments a cashier a day, as at a real one.
CUSTOMERS_PER_CASHIER = 10_000
# (channel, share in percent): counter methods, the bank statement, the two gateways.
CHANNELS = [
    ("cash", 25),
    ("card", 10),
    ("bank", 5),
    ("bank_statement", 15),
    ("alipay", 25),
    ("wechat", 20),
]
STOPPED_SHARE, HALF_SHARE, LATE_SHARE = 5, 3, 15  # percent of customers
PAY_DAYS = 27  # the latest payment comes this many days after the bill (before the next one)
_REFERENCE = {
    "cash": Method.CASH.label,
    "card": Method.CARD.label,
    "bank": Method.BANK.label,
    "bank_statement": Method.BANK.label,
    "alipay": "Alipay",
    "wechat": "WeChat Pay",
}


def _mix(customer_id: int, salt: int) -> int:
    """A stable number 0..99 per customer and purpose (Knuth's multiplicative hash)."""
    return ((customer_id * 2654435761 + salt * 40503) >> 7) % 100


def channel_of(customer_id: int) -> str:
    point = _mix(customer_id, 1)
    for channel, share in CHANNELS:
        if point < share:
            return channel
        point -= share
    return CHANNELS[-1][0]


def habit_of(customer_id: int) -> str:
    point = _mix(customer_id, 2)
    if point < STOPPED_SHARE:
        return "stopped"
    if point < STOPPED_SHARE + HALF_SHARE:
        return "half"
    if point < STOPPED_SHARE + HALF_SHARE + LATE_SHARE:
        return "late"
    return "on_time"


def stopped_months(customer_id: int) -> int:
    """How many of the last months a customer who stopped paying has not paid: 1 to 12."""
    return 1 + _mix(customer_id, 3) % 12


def _months_ago(period, today: dt.date) -> int:
    return (today.year * 12 + today.month) - (period.start.year * 12 + period.start.month)


def _cashiers(customer_ids: range) -> dict[int, int]:
    """{block: user id} of the generated cashiers serving these customer ids (made on first use;
    block = customer id // CUSTOMERS_PER_CASHIER)."""
    from gasworks.accounts.services import create_user

    users = get_user_model().objects
    out = {}
    for block in range(
        customer_ids.start // CUSTOMERS_PER_CASHIER, (customer_ids.stop - 1) // CUSTOMERS_PER_CASHIER + 1
    ):
        name = f"gen-cashier-{block + 1}"
        user = users.filter(username=name).first() or create_user(
            name, f"gen-{name}-password-not-for-login", "cashier"
        )
        out[block] = user.pk
    return out


def open_month_shifts(period, issued_at: dt.datetime, customer_ids: range) -> None:
    """billing.generate.BEFORE_MONTH: a shift per generated cashier and day on which the
    period's bills may be paid (08:00 to 20:30 local), made closed: their totals are filled in
    at the end. Made before the month's chunks, which may run in parallel, look them up."""
    zone = timezone.get_current_timezone()
    first = timezone.localdate(issued_at)
    days = [first + dt.timedelta(days=n) for n in range(PAY_DAYS + 1)]
    Shift.objects.bulk_create(
        [
            Shift(
                cashier_id=cashier,
                status=ShiftStatus.CLOSED,
                opened_at=dt.datetime.combine(day, dt.time(8), zone),
                closed_at=dt.datetime.combine(day, dt.time(20, 30), zone),
                handed_to="财务室",
            )
            for cashier in _cashiers(customer_ids).values()
            for day in days
        ]
    )


def _shift_ids(issued_at: dt.datetime, cashiers: list[int]) -> dict[tuple[int, dt.date], int]:
    start = issued_at - dt.timedelta(hours=12)
    end = issued_at + dt.timedelta(days=PAY_DAYS + 1)
    return {
        (cashier, timezone.localdate(opened)): pk
        for pk, cashier, opened in Shift.objects.filter(
            cashier_id__in=cashiers, opened_at__gte=start, opened_at__lt=end
        ).values_list("pk", "cashier_id", "opened_at")
    }


def pay_bills(lo: int, hi: int, period, issued_at: dt.datetime, rng, late_fees=None) -> None:
    """Payments for the period's bills of customers lo..hi (billing.generate.AFTER_BILLS).
    ``late_fees`` (billing's LateFees) charges the month's late fees when called: the payments
    made before its time are written first, then it is called, then the rest, the late payers'
    covering the fee charged on their bill."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    back = _months_ago(period, today)
    cashiers = _cashiers(range(lo, hi + 1))
    bills = (
        Bill.objects.filter(
            customer_id__gte=lo, customer_id__lte=hi, period=period.key, status=BillStatus.ISSUED
        )
        .order_by("customer_id")
        .values_list("customer_id", "total", "pk")
    )
    # (customer id, amount, when, channel, cashier or None, bill id, habit)
    planned: list[tuple] = []
    issued_day = timezone.localdate(issued_at)
    now = timezone.now()
    for customer_id, total, bill_id in bills.iterator(chunk_size=10000):
        habit = habit_of(customer_id)
        if habit == "stopped" and back <= stopped_months(customer_id):
            continue
        amount = total
        if habit == "half":
            amount = (total / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if amount <= 0:
            continue
        days = rng.randint(16, 27) if habit == "late" else rng.randint(0, 14)
        when = dt.datetime.combine(
            issued_day + dt.timedelta(days=days), dt.time(rng.randint(8, 19), rng.randint(0, 59)), zone
        )
        if when > now:
            continue  # not come yet: the latest bills are partly unpaid, as on a real day
        channel = channel_of(customer_id)
        counter = channel in ("cash", "card", "bank")
        cashier = cashiers[customer_id // CUSTOMERS_PER_CASHIER] if counter else None
        planned.append((customer_id, amount, when, channel, cashier, bill_id, habit))
    fee_at = getattr(late_fees, "at", None)
    before = [row for row in planned if fee_at is None or row[2] < fee_at]
    after = [row for row in planned if fee_at is not None and row[2] >= fee_at]
    shifts = _shift_ids(issued_at, list(cashiers.values())) if planned else {}
    if before:
        with transaction.atomic():
            _write([row[:5] for row in before], period, shifts)
    if late_fees is None:
        return
    fees = late_fees()  # the fee day's charge, between the payments before it and after it
    if after:
        with transaction.atomic():
            _write(
                [
                    (cid, amount + fees.get(bill, 0) if habit == "late" else amount, when, channel, cashier)
                    for cid, amount, when, channel, cashier, bill, habit in after
                ],
                period,
                shifts,
            )


def _write(planned: list[tuple], period, shifts: dict) -> None:
    # Every time planned is local already (made in the station's zone by pay_bills): its year,
    # date and digits are read off it directly (localtime() per row was a tenth of the write).
    by_year: dict[int, list[int]] = defaultdict(list)
    for index, row in enumerate(planned):
        by_year[row[2].year].append(index)
    receipts: list[str] = [""] * len(planned)
    for year, indexes in sorted(by_year.items()):
        # In time order within the year: the book's numbers follow the payments' times.
        indexes.sort(key=lambda i: planned[i][2])
        for i, number in zip(
            indexes, store.take_numbers(settings.STATION_CODE, year, len(indexes)), strict=True
        ):
            receipts[i] = number
    ids = store.next_payment_ids(len(planned))
    rows = []
    tag = period.key.replace("-", "")
    for pk, receipt, (customer_id, amount, when, channel, cashier) in zip(
        ids, receipts, planned, strict=True
    ):
        method, gateway, txn = channel, "", None
        if channel == "bank_statement":
            method, gateway, txn = Method.BANK, "bank", f"GENB{tag}{customer_id:010d}"
        elif channel in ("alipay", "wechat"):
            method, gateway, txn = Method.ONLINE, channel, f"GEN{tag}{customer_id:010d}"
        tendered = amount if channel == "cash" else None
        rows.append(
            {
                "id": pk,
                "order_no": f"GW{when:%Y%m%d}G{tag}{customer_id:010d}",
                "customer_id": customer_id,
                "amount": amount,
                "currency": settings.CURRENCY,
                "method": method,
                "status": PaymentStatus.SUCCEEDED.value,
                "gateway": gateway,
                "gateway_txn_id": txn,
                "needs_review": False,
                "review_note": "",
                "receipt_no": receipt,
                "refunded_amount": Decimal("0.00"),
                "tendered": tendered,
                "change_given": Decimal("0.00") if tendered is not None else None,
                "shift_id": shifts[(cashier, when.date())] if cashier else None,
                "purpose": "account",
                "created_by_id": cashier,
                "created_at": when,
                "paid_at": when,
            }
        )
    store.write_generated(rows)
    # The money: one set posting per channel (each with its reference), each entry at its
    # payment's time and keyed payment:<id> as the counter's post would be.
    by_channel: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(planned):
        by_channel[row[3]].append(index)
    for channel, indexes in by_channel.items():
        batch = ledger.SetPosting(EntryKind.PAYMENT, str(_REFERENCE[channel]))
        batch.lock([planned[i][0] for i in indexes])
        batch.settle({planned[i][0]: planned[i][1] for i in indexes})
        batch.post(
            "payment:",
            {planned[i][0]: ids[i] for i in indexes},
            times={planned[i][0]: planned[i][2] for i in indexes},
        )


def generate(customer_ids: range, rng, stdout, months: int = 0) -> None:
    """Runs after billing's generator (app order): the generated shifts get their totals (as
    close_shift freezes them, from one grouped query), and a count of what pay_bills wrote."""
    if not months:
        return
    started = time.perf_counter()
    shifts = Shift.objects.filter(cashier_id__in=list(_cashiers(customer_ids).values()), totals={})
    empty = {str(m): {"count": 0, "total": "0.00"} for m in COUNTER_METHODS}
    totals: dict[int, dict] = {
        pk: {"methods": dict(empty), "total": Decimal("0.00")} for pk in shifts.values_list("pk", flat=True)
    }
    rows = (
        Payment.objects.filter(shift_id__in=list(totals), status__in=PAID_STATUSES)
        .values_list("shift_id", "method")
        .annotate(n=Count("pk"), total=DecimalSum("amount"))
        .order_by()
    )
    for shift_id, method, n, total in rows:
        totals[shift_id]["methods"][method] = {"count": n, "total": f"{total:.2f}"}
        totals[shift_id]["total"] += total
    for pk, value in totals.items():  # no refunds are generated
        Shift.objects.filter(pk=pk).update(
            totals={"methods": value["methods"], "total": f"{value['total']:.2f}", "refunded": "0.00"}
        )
    paid = Payment.objects.filter(customer_id__gte=customer_ids.start, customer_id__lt=customer_ids.stop)
    by_channel = {
        f"{m}/{g or '-'}": n
        for m, g, n in paid.values_list("method", "gateway").annotate(n=Count("pk")).order_by()
    }
    stdout.write(
        f"payments: {sum(by_channel.values())} payments ({by_channel}); {len(totals)} closed shifts "
        f"totalled in {time.perf_counter() - started:.1f} s"
    )
