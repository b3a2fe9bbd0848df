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
