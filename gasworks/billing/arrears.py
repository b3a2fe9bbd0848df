"""Arrears: what is overdue, aging buckets, and the daily late fee.

Allocation rule: payments settle the oldest bills first, and late fees are settled last, so
an account's unpaid bill amount is its debt minus the late fees charged, and that amount sits
on its newest bills. A bill past its due date with an unpaid part is overdue by that part.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from gasworks.billing import ledger
from gasworks.billing.models import Account, Bill, BillStatus, EntryKind, LedgerEntry
from gasworks.lib.db import DecimalSum
from gasworks.lib.money import round_money
from gasworks.system import parameters

BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OverdueBill:
    bill: Bill
    outstanding: Decimal
    days: int


def bucket_of(days: int) -> str:
    for name, low, high in BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return BUCKETS[0][0]


def overdue_bills(today: date | None = None, customer_ids=None) -> list[OverdueBill]:
    today = today or timezone.localdate()
    accounts = Account.objects.filter(balance__lt=0)
    if customer_ids is not None:
        accounts = accounts.filter(customer_id__in=customer_ids)
    debt = {cid: -bal for cid, bal in accounts.values_list("customer_id", "balance")}
    if not debt:
        return []
    fees = dict(
        LedgerEntry.objects.filter(account__customer_id__in=list(debt), kind=EntryKind.LATE_FEE)
        .values_list("account__customer_id")
        .annotate(s=DecimalSum("amount"))
    )
    remaining = {cid: max(ZERO, d - (-(fees.get(cid) or ZERO))) for cid, d in debt.items()}
    result: list[OverdueBill] = []
    bills = (
        Bill.objects.filter(customer_id__in=list(debt), status=BillStatus.ISSUED)
        .select_related("customer")
        .order_by("customer_id", "-period")
    )
    for bill in bills:
        left = remaining[bill.customer_id]
        if left <= 0:
            continue
        part = min(left, bill.total)
        remaining[bill.customer_id] = left - part
        if bill.due_on < today and part > 0:
            result.append(OverdueBill(bill, part, (today - bill.due_on).days))
    return result


def aging(today: date | None = None) -> dict[str, Decimal]:
    totals = {name: ZERO for name, _low, _high in BUCKETS}
    for item in overdue_bills(today):
        totals[bucket_of(item.days)] += item.outstanding
    return totals


def overdue_accounts(today: date | None = None) -> list[dict]:
    """One row per account in arrears, the longest overdue first: the list to work through."""
    rows: dict[int, dict] = {}
    for item in overdue_bills(today):
        row = rows.setdefault(
            item.bill.customer_id,
            {"customer": item.bill.customer, "overdue": ZERO, "days": 0, "bills": 0},
        )
        row["overdue"] += item.outstanding
        row["days"] = max(row["days"], item.days)
        row["bills"] += 1
    for row in rows.values():
        row["bucket"] = bucket_of(row["days"])
    return sorted(rows.values(), key=lambda r: (-r["days"], -r["overdue"]))


def apply_late_fees(today: date | None = None) -> int:
    """Charge one day's late fee on every overdue bill; idempotent per bill per day (the
    ledger key late_fee:<bill>:<day>), capped at late_fee_cap_ratio × the bill's total."""
    today = today or timezone.localdate()
    rate = Decimal(parameters.get("late_fee_rate_per_day"))
    cap_ratio = Decimal(parameters.get("late_fee_cap_ratio"))
    items = overdue_bills(today)
    charged: defaultdict[int, Decimal] = defaultdict(lambda: ZERO)
    suffix = f":{today.isoformat()}"
    done_today: set[int] = set()
    keys = LedgerEntry.objects.filter(
        kind=EntryKind.LATE_FEE, account__customer_id__in={i.bill.customer_id for i in items}
    ).values_list("idempotency_key", "amount")
    for key, amount in keys:
        if key and key.startswith("late_fee:"):
            bill_id = int(key.split(":")[1])
            charged[bill_id] += -amount
            if key.endswith(suffix):
                done_today.add(bill_id)
    posted = 0
    for item in items:
        if item.bill.pk in done_today:
            continue
        fee = round_money(item.outstanding * rate)
        room = round_money(item.bill.total * cap_ratio) - charged[item.bill.pk]
        fee = min(fee, room)
        if fee <= 0:
            continue
        key = f"late_fee:{item.bill.pk}:{today.isoformat()}"
        ledger.post(
            item.bill.customer,
            EntryKind.LATE_FEE,
            -fee,
            reference=f"Late fee {item.bill.period} ({today.isoformat()})",
            idempotency_key=key,
        )
        posted += 1
    return posted
