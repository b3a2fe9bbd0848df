"""The collections report's SQL: money in and out of the ledger by station-local day, joined to
the payment it belongs to (channel, method, cashier, shift) and the customer (category,
district); charges by day; and the rollup's rebuild of one day.

How an entry finds its payment: the ledger keys every entry by its cause (billing/ledger.py's
idempotency keys, written by gasworks/payments/services.py): a payment's entry is
``payment:<payment id>``, a refund's ``refund:<refund id>`` (the refund row names the payment), and
a reversal points at the entry it reverses (``reverses_id``). A payment entry whose key names no
payment is still counted, under the channel ``other``, so the figures never lose money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Substr, TruncDate
from django.utils import timezone

from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.customers.models import Customer, Premises
from gasworks.lib import replicas
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.payments.models import Payment, Refund, Shift
from gasworks.reports import rollups
from gasworks.reports.collections.models import BilledDay, CollectionsCashierDay, CollectionsDay

# Charges that count as billed (collected ÷ billed is the collection rate): bills, late fees,
# prepaid charges (prepaid readings and IC-card top-ups) and LPG sales. Cylinder deposits are
# money held, not revenue; adjustments are corrections, shown on the ledger, not here.
BILLED_KINDS = (EntryKind.CHARGE, EntryKind.LATE_FEE, EntryKind.PREPAID_CHARGE, EntryKind.LPG_SALE)

# payments.channels.channel_of, in SQL (keep the two together).
CHANNEL_SQL = """CASE WHEN p.id IS NULL THEN 'other'
     WHEN p.purpose = 'ic_card' THEN 'ic_card'
     WHEN p.method = 'online' THEN p.gateway
     WHEN p.gateway = 'bank' THEN 'bank_statement'
     ELSE p.method END"""

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MoneyRow:
    day: dt.date
    channel: str
    method: str
    cashier_id: int | None
    shift_id: int | None
    category: str
    district: str
    count: int
    amount: Decimal
    refunds: Decimal
    reversals: Decimal


@dataclass(frozen=True)
class BilledRow:
    day: dt.date
    category: str
    district: str
    billed: Decimal


def _money(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):  # SQLite's DECIMAL_SUM hands back one float of an exact sum
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENT)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _tables() -> dict[str, str]:
    """The tables the store's own SQL names. The ledger's tables are read only through the ORM
    (the layer rule: no SQL outside billing/ledger.py names a money table)."""
    qn = connection.ops.quote_name
    return {
        "payment": qn(Payment._meta.db_table),
        "shift": qn(Shift._meta.db_table),
        "customer": qn(Customer._meta.db_table),
        "premises": qn(Premises._meta.db_table),
        # SQLite adds decimals as floats; lib/db.py registers an exact aggregate for it.
        "sum": "DECIMAL_SUM" if connection.vendor == "sqlite" else "SUM",
    }


def _id_after(prefix: str, field: str) -> Cast:
    """The id that follows ``prefix`` in a ledger key (``payment:42`` → 42)."""
    return Cast(Substr(field, len(prefix) + 1), BigIntegerField())


def _entries(start: dt.datetime, end: dt.datetime):
    """The ledger entries that move collected money, recorded in [start, end), each with its
    customer and the payment it belongs to: one ORM query (a union of four reads)."""
    base = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    columns = ("created_at", "kind", "amount", "customer_id", "payment_id")
    refund_payment = Subquery(Refund.objects.filter(pk=OuterRef("refund_id")).values("payment_id")[:1])
    payments = base.filter(kind=EntryKind.PAYMENT).annotate(
        customer_id=F("account__customer_id"), payment_id=_id_after("payment:", "idempotency_key")
    )
    refunds = (
        base.filter(kind=EntryKind.REFUND)
        .annotate(refund_id=_id_after("refund:", "idempotency_key"))
        .annotate(customer_id=F("account__customer_id"), payment_id=refund_payment)
    )
    reversed_payments = base.filter(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.PAYMENT).annotate(
        customer_id=F("account__customer_id"), payment_id=_id_after("payment:", "reverses__idempotency_key")
    )
    reversed_refunds = (
        base.filter(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.REFUND)
        .annotate(refund_id=_id_after("refund:", "reverses__idempotency_key"))
        .annotate(customer_id=F("account__customer_id"), payment_id=refund_payment)
    )
    parts = [q.values_list(*columns) for q in (payments, refunds, reversed_payments, reversed_refunds)]
    return parts[0].union(*parts[1:], all=True)


_MONEY_SQL = """
SELECT {day} AS day, {channel} AS channel, COALESCE(p.method, '') AS method, s.cashier_id,
       p.shift_id, c.category, COALESCE(pr.district, '') AS district,
       SUM(CASE WHEN u.kind = 'payment' THEN 1 ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'payment' THEN u.amount ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'refund' THEN -u.amount ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'reversal' THEN -u.amount ELSE 0 END)
FROM ({entries}) u
JOIN {customer} c ON c.id = u.customer_id
LEFT JOIN {premises} pr ON pr.id = c.premises_id
LEFT JOIN {payment} p ON p.id = u.payment_id
LEFT JOIN {shift} s ON s.id = p.shift_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def money_rows(start: dt.datetime, end: dt.datetime) -> list[MoneyRow]:
    """Money in (payments), refunds and reversals of either, recorded in [start, end), by local
    day and every dimension the report groups or filters by."""
    day, day_params = connection.ops.datetime_cast_date_sql(
        "u.created_at", (), timezone.get_current_timezone_name()
    )
    entries, entry_params = _entries(start, end).query.sql_with_params()
    sql = _MONEY_SQL.format(day=day, channel=CHANNEL_SQL, entries=entries, **_tables())
    with replicas.read_connection().cursor() as cursor:
        cursor.execute(sql, [*day_params, *entry_params])
        rows = cursor.fetchall()
    return [
        MoneyRow(
            _day(r[0]),
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            int(r[7] or 0),
            _money(r[8]),
            _money(r[9]),
            _money(r[10]),
        )
        for r in rows
    ]


def billed_rows(start: dt.datetime, end: dt.datetime) -> list[BilledRow]:
    """Charges recorded in [start, end) (less reversals of charges), by local day, category and
    district, as positive amounts."""
    rows = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(Q(kind__in=BILLED_KINDS) | Q(kind=EntryKind.REVERSAL, reverses__kind__in=BILLED_KINDS))
        .annotate(day=TruncDate("created_at"))
        .values("day", "account__customer__category", "account__customer__premises__district")
        .annotate(total=DecimalSum("amount"))
        .order_by()
    )
    return [
        BilledRow(
            _day(r["day"]),
            r["account__customer__category"],
            r["account__customer__premises__district"] or "",
            -_money(r["total"]),
        )
        for r in rows
    ]


# --- the rollup --------------------------------------------------------------------------------


def _days_between(first: dt.datetime | None, last: dt.datetime | None) -> set[dt.date]:
    if first is None or last is None:
        return set()
    lo, hi = timezone.localdate(first), timezone.localdate(last)
    return {lo + dt.timedelta(days=n) for n in range((hi - lo).days + 1)}


def touched_days(since: dt.datetime) -> set[dt.date]:
    """The local days of ledger entries recorded since ``since``: every day from the first to the
    last of them (two index look-ups on created_at, however many entries; a day in between
    without an entry is rebuilt to the same rows). Entries are append-only and a refund or
    reversal is an entry of its own day, so nothing recorded earlier can change a day."""
    span = LedgerEntry.objects.filter(created_at__gte=since).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    return _days_between(span["first"], span["last"])


def all_days() -> set[dt.date]:
    span = LedgerEntry.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    return _days_between(span["first"], span["last"])


def rebuild_days(days: Iterable[dt.date]) -> None:
    """Replace the rollup rows of these days from the ledger (inside the caller's transaction),
    one computation per month of them: the base reads already group by local day, so a month
    is one range scan of the ledger's created_at index, not thirty (a full refresh of a year
    was 365 scans)."""
    tz = timezone.get_current_timezone()
    for month in rollups.by_month(days):
        start = start_of_day(min(month), tz)
        end = start_of_day(max(month) + dt.timedelta(days=1), tz)
        by_district: dict[tuple, list] = {}
        by_cashier: dict[tuple, list] = {}
        for row in money_rows(start, end):
            if row.day not in month:
                continue
            figures = (row.count, row.amount, row.refunds, row.reversals)
            for into, key in (
                (by_district, (row.day, row.channel, row.category, row.district)),
                (by_cashier, (row.day, row.channel, row.method, row.cashier_id, row.shift_id, row.category)),
            ):
                current = into.setdefault(key, [0, Decimal(0), Decimal(0), Decimal(0)])
                for i, value in enumerate(figures):
                    current[i] += value
        billed: dict[tuple, Decimal] = {}
        for b in billed_rows(start, end):
            if b.day in month:
                where = (b.day, b.category, b.district)
                billed[where] = billed.get(where, Decimal(0)) + b.billed
        CollectionsDay.objects.filter(day__in=month).delete()
        CollectionsCashierDay.objects.filter(day__in=month).delete()
        BilledDay.objects.filter(day__in=month).delete()
        CollectionsDay.objects.bulk_create(
            CollectionsDay(
                day=k[0],
                channel=k[1],
                category=k[2],
                district=k[3],
                count=v[0],
                amount=v[1],
                refunds=v[2],
                reversals=v[3],
            )
            for k, v in by_district.items()
        )
        CollectionsCashierDay.objects.bulk_create(
            CollectionsCashierDay(
                day=k[0],
                channel=k[1],
                method=k[2],
                cashier_id=k[3],
                shift_id=k[4],
                category=k[5],
                count=v[0],
                amount=v[1],
                refunds=v[2],
                reversals=v[3],
            )
            for k, v in by_cashier.items()
        )
        BilledDay.objects.bulk_create(
            BilledDay(day=k[0], category=k[1], district=k[2], billed=v) for k, v in billed.items() if v
        )
