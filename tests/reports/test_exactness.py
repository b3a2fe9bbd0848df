"""Every report's totals against sums taken independently from the ledger, the bills and the
readings, over the mixed month (tests/reports/mixed_month.py), on SQLite and PostgreSQL: money
to the fen, volumes to the litre, days the station's local days. The reports are read through
the API, as an outside system would, and each is read twice: live (no rollup yet) and after a
refresh of every rollup, which must not change a figure."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from gasworks.billing.models import Bill, BillLine, BillStatus, EntryKind, LedgerEntry
from gasworks.payments.models import Payment
from gasworks.reports import framework, rollups
from tests.reports import mixed_month

pytestmark = pytest.mark.django_db

ZERO = Decimal("0")


@pytest.fixture
def month():
    return mixed_month.build()


def _ask(client, user, name, **query):
    if name not in framework.REPORTS:
        pytest.fail(f"the {name} report is not registered")
    client.force_login(user)
    response = client.get(f"/api/v1/reports/{name}/", query)
    assert response.status_code == 200, response.content
    return response.json()


def _both_ways(client, user, name, **query):
    """The report live, then after every rollup is refreshed: the two must agree."""
    live = _ask(client, user, name, **query)
    rollups.refresh()
    assert _ask(client, user, name, **query) == live
    return live


def _local_day(at) -> str:
    return timezone.localtime(at).date().isoformat()


def test_sales_equal_the_bills_and_the_ledger_charges(client, month):
    bills = Bill.objects.filter(period=mixed_month.PERIOD, status=BillStatus.ISSUED)
    volume = sum((line.volume for line in BillLine.objects.filter(bill__in=bills)), ZERO)
    charged = -sum(
        (
            e.amount
            for e in LedgerEntry.objects.filter(kind=EntryKind.CHARGE, idempotency_key__startswith="bill:")
        ),
        ZERO,
    )
    body = _both_ways(
        client, month.manager, "sales", **{"from": "2026-10", "to": "2026-10", "group_by": "category"}
    )
    assert Decimal(body["total"]["volume"]) == volume
    assert Decimal(body["total"]["amount"]) == charged == sum((b.total for b in bills), ZERO)
    assert int(body["total"]["bills"]) == bills.count()
    by_category = defaultdict(lambda: ZERO)
    for bill in bills.select_related("customer"):
        by_category[bill.customer.category] += bill.total
    assert {row["category"]: Decimal(row["amount"]) for row in body["rows"]} == dict(by_category)


def test_collections_equal_the_ledger_by_local_day_and_channel(client, month):
    entries = LedgerEntry.objects.filter(kind__in=[EntryKind.PAYMENT, EntryKind.REFUND])
    money_in = sum((e.amount for e in entries if e.kind == EntryKind.PAYMENT), ZERO)
    refunds = -sum((e.amount for e in entries if e.kind == EntryKind.REFUND), ZERO)
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    body = _both_ways(client, month.manager, "collections", group_by="day", **query)
    assert Decimal(body["total"]["amount"]) == money_in
    assert Decimal(body["total"]["refunds"]) == refunds
    assert Decimal(body["total"]["net"]) == money_in - refunds
    by_day = defaultdict(lambda: ZERO)
    for e in entries.filter(kind=EntryKind.PAYMENT):
        by_day[_local_day(e.created_at)] += e.amount
    assert {row["day"]: Decimal(row["amount"]) for row in body["rows"] if Decimal(row["amount"])} == dict(
        by_day
    )
    # 23:30 on the 14th and 00:30 on the 15th (the 14th in UTC) fall on their local days.
    assert by_day["2026-11-14"] >= Decimal("3.33") and by_day["2026-11-15"] >= Decimal("0.67")
    channels = _both_ways(client, month.manager, "collections", group_by="channel", **query)
    paid = Payment.objects.filter(paid_at__isnull=False)  # a refunded payment was money in too
    expected = {
        "cash": sum((p.amount for p in paid if p.method == "cash" and p.purpose == "account"), ZERO),
        "card": sum((p.amount for p in paid if p.method == "card"), ZERO),
        "bank": sum((p.amount for p in paid if p.method == "bank" and p.gateway != "bank"), ZERO),
        "bank_statement": sum((p.amount for p in paid if p.gateway == "bank"), ZERO),
        "sandbox": sum((p.amount for p in paid if p.gateway == "sandbox"), ZERO),
        "ic_card": sum((p.amount for p in paid if p.purpose == "ic_card"), ZERO),
    }
    got = {row["channel"]: Decimal(row["amount"]) for row in channels["rows"]}
    assert got == {k: v for k, v in expected.items() if v}


def test_arrears_equal_the_debts_less_late_fees(client, month):
    as_of = mixed_month.LAST
    body = _both_ways(client, month.manager, "arrears", as_of=as_of.isoformat(), group_by="category")
    fees = defaultdict(lambda: ZERO)
    for e in LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE).select_related("account"):
        fees[e.account.customer_id] += -e.amount
    owed = ZERO
    accounts = 0
    for bill_customer in {
        b.customer_id for b in Bill.objects.filter(status=BillStatus.ISSUED, due_on__lt=as_of)
    }:
        balance = sum(
            (e.amount for e in LedgerEntry.objects.filter(account__customer_id=bill_customer)),
            ZERO,
        )
        unpaid_bills = max(ZERO, -balance - fees[bill_customer])
        if unpaid_bills:
            owed += unpaid_bills
            accounts += 1
    assert Decimal(body["total"]["total"]) == owed
    assert int(body["total"]["accounts"]) == accounts
    buckets = ("days_0_30", "days_31_60", "days_61_90", "days_over_90")
    assert sum(Decimal(body["total"][b]) for b in buckets) == owed


def test_reading_counts_equal_the_readings_taken_in_the_local_month(client, month):
    from gasworks.lib.dates import start_of_day
    from gasworks.metering.models import Reading

    body = _both_ways(
        client, month.manager, "reading", **{"from": "2026-10-01", "to": "2026-10-31", "group_by": "district"}
    )
    taken = Reading.objects.filter(
        taken_at__gte=start_of_day(date(2026, 10, 1)), taken_at__lt=start_of_day(date(2026, 11, 1))
    )
    assert int(body["total"]["readings"]) == taken.count()
    assert int(body["total"]["estimated"]) == taken.filter(status="estimated").count()


def _arrears_from_the_ledger(as_of: date) -> dict[str, dict[str, Decimal | int]]:
    """Per category, the arrears at the end of ``as_of`` from the ledger entries and bills
    recorded before it ended, by the allocation rule (payments settle the oldest bills first,
    late fees last), in plain Python: overdue per age bucket and the accounts with some."""
    from datetime import timedelta

    from gasworks.lib.dates import start_of_day

    cutoff = start_of_day(as_of + timedelta(days=1))
    entries = LedgerEntry.objects.filter(created_at__lt=cutoff).select_related(
        "account__customer", "reverses"
    )
    debt: dict = defaultdict(lambda: ZERO)
    fees: dict = defaultdict(lambda: ZERO)
    category = {}
    for e in entries:
        customer = e.account.customer
        category[customer.pk] = customer.category
        debt[customer.pk] -= e.amount
        if e.kind == EntryKind.LATE_FEE or (
            e.kind == EntryKind.REVERSAL and e.reverses.kind == EntryKind.LATE_FEE
        ):
            fees[customer.pk] -= e.amount
    out: dict = defaultdict(lambda: {"total": ZERO, "accounts": 0, **dict.fromkeys(BUCKETS, ZERO)})
    for cid, owed in debt.items():
        unpaid = owed - fees[cid]
        if owed <= 0 or unpaid <= 0:
            continue
        bills = Bill.objects.filter(customer_id=cid, status=BillStatus.ISSUED, created_at__lt=cutoff)
        overdue = ZERO
        for bill in bills.order_by("-period"):  # the newest bills hold what is unpaid
            part = min(bill.total, unpaid)
            unpaid -= part
            if part > 0 and bill.due_on < as_of:
                age = (as_of - bill.due_on).days
                bucket = BUCKETS[0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3]
                out[category[cid]][bucket] += part
                overdue += part
        if overdue:
            out[category[cid]]["total"] += overdue
            out[category[cid]]["accounts"] += 1
    return dict(out)


BUCKETS = ("days_0_30", "days_31_60", "days_61_90", "days_over_90")


def test_arrears_of_a_past_day_equal_the_ledger_then_and_come_from_the_day_rollup(client, month, monkeypatch):
    """A past day's aging, as the ledger stood at its end, read live and then from the day
    rollup (nothing computed live once it is refreshed): both equal the ledger to the fen, and so
    does that day's point of the 12-month trend."""
    import time_machine

    from gasworks.reports.arrears import store
    from gasworks.reports.arrears.models import ArrearsDay
    from tests.billing.helpers import local

    as_of = date(2026, 11, 25)  # after the late fees and the name transfer
    query = {"as_of": as_of.isoformat(), "group_by": "category"}
    with time_machine.travel(local(2026, 12, 10, 12), tick=False):
        live = _ask(client, month.manager, "arrears", **query)
        live_trend = _ask(client, month.manager, "arrears", as_of=as_of.isoformat(), group_by="month")
        rollups.refresh()
        assert ArrearsDay.objects.filter(day=as_of).exists()

        def no_live_read(*args, **kwargs):
            raise AssertionError("computed from the ledger: the day rollup should hold it")

        monkeypatch.setattr(store, "live_totals", no_live_read)
        monkeypatch.setattr(store, "fees_charged", no_live_read)
        stored = _ask(client, month.manager, "arrears", **query)
        stored_trend = _ask(client, month.manager, "arrears", as_of=as_of.isoformat(), group_by="month")
    assert stored == live and stored_trend == live_trend
    expected = _arrears_from_the_ledger(as_of)
    assert expected and sum(e["total"] for e in expected.values()) > 0
    got = {row["category"]: row for row in stored["rows"]}
    assert set(got) == set(expected)
    for name, figures in expected.items():
        assert int(got[name]["accounts"]) == figures["accounts"]
        assert Decimal(got[name]["total"]) == figures["total"]
        assert {b: Decimal(got[name][b]) for b in BUCKETS} == {b: figures[b] for b in BUCKETS}
    november = next(r for r in stored_trend["rows"] if r["period"] == "2026-11")
    assert Decimal(november["total"]) == sum(e["total"] for e in expected.values())
    charged = -sum((e.amount for e in LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE)), ZERO)
    assert charged > 0 and Decimal(november["late_fees_charged"]) == charged
