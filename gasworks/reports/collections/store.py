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
from django.db.models import Max, Min
from django.utils import timezone

from gasworks.billing.models import Account, EntryKind, LedgerEntry
from gasworks.customers.models import Customer, Premises
from gasworks.lib.dates import start_of_day
from gasworks.payments.models import Payment, Refund, Shift
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


def _at(moment: dt.datetime):
    """A time as the database stores it (SQLite compares UTC text: an aware +08:00 value would
    be compared as text, and a day would end eight hours late)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _tables() -> dict[str, str]:
    qn = connection.ops.quote_name
    return {
        "ledger": qn(LedgerEntry._meta.db_table),
        "account": qn(Account._meta.db_table),
        "payment": qn(Payment._meta.db_table),
        "refund": qn(Refund._meta.db_table),
        "shift": qn(Shift._meta.db_table),
        "customer": qn(Customer._meta.db_table),
        "premises": qn(Premises._meta.db_table),
        # SQLite adds decimals as floats; lib/db.py registers an exact aggregate for it.
        "sum": "DECIMAL_SUM" if connection.vendor == "sqlite" else "SUM",
    }


def _local_day_sql(column: str) -> tuple[str, tuple]:
    return connection.ops.datetime_cast_date_sql(column, (), timezone.get_current_timezone_name())


def _id_after(prefix: str, column: str) -> str:
    """The id that follows ``prefix`` in a ledger key (``payment:42`` → 42)."""
    return f"CAST(SUBSTR({column}, {len(prefix) + 1}) AS BIGINT)"


_MONEY_SQL = """
SELECT {day} AS day, {channel} AS channel, COALESCE(p.method, '') AS method, s.cashier_id,
       p.shift_id, c.category, COALESCE(pr.district, '') AS district,
       SUM(CASE WHEN u.kind = 'payment' THEN 1 ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'payment' THEN u.amount ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'refund' THEN -u.amount ELSE 0 END),
       {sum}(CASE WHEN u.kind = 'reversal' THEN -u.amount ELSE 0 END)
FROM (
    SELECT e.created_at, e.kind, e.amount, e.account_id, {payment_of_e} AS payment_id
      FROM {ledger} e
     WHERE e.kind = 'payment' AND e.created_at >= %s AND e.created_at < %s
    UNION ALL
    SELECT e.created_at, e.kind, e.amount, e.account_id, r.payment_id
      FROM {ledger} e JOIN {refund} r ON r.id = {refund_of_e}
     WHERE e.kind = 'refund' AND e.created_at >= %s AND e.created_at < %s
    UNION ALL
    SELECT e.created_at, e.kind, e.amount, e.account_id, {payment_of_o}
      FROM {ledger} e JOIN {ledger} o ON o.id = e.reverses_id
     WHERE e.kind = 'reversal' AND o.kind = 'payment' AND e.created_at >= %s AND e.created_at < %s
    UNION ALL
    SELECT e.created_at, e.kind, e.amount, e.account_id, r.payment_id
      FROM {ledger} e JOIN {ledger} o ON o.id = e.reverses_id JOIN {refund} r ON r.id = {refund_of_o}
     WHERE e.kind = 'reversal' AND o.kind = 'refund' AND e.created_at >= %s AND e.created_at < %s
) u
JOIN {account} a ON a.id = u.account_id
JOIN {customer} c ON c.id = a.customer_id
LEFT JOIN {premises} pr ON pr.id = c.premises_id
LEFT JOIN {payment} p ON p.id = u.payment_id
LEFT JOIN {shift} s ON s.id = p.shift_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def money_rows(start: dt.datetime, end: dt.datetime) -> list[MoneyRow]:
    """Money in (payments), refunds and reversals of either, recorded in [start, end), by local
    day and every dimension the report groups or filters by."""
    day, day_params = _local_day_sql("u.created_at")
    sql = _MONEY_SQL.format(
        day=day,
        channel=CHANNEL_SQL,
        payment_of_e=_id_after("payment:", "e.idempotency_key"),
        refund_of_e=_id_after("refund:", "e.idempotency_key"),
        payment_of_o=_id_after("payment:", "o.idempotency_key"),
        refund_of_o=_id_after("refund:", "o.idempotency_key"),
        **_tables(),
    )
    params = [*day_params, *([_at(start), _at(end)] * 4)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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


_BILLED_SQL = """
SELECT {day} AS day, c.category, COALESCE(pr.district, '') AS district, {sum}(-e.amount)
  FROM {ledger} e
  LEFT JOIN {ledger} o ON o.id = e.reverses_id
  JOIN {account} a ON a.id = e.account_id
  JOIN {customer} c ON c.id = a.customer_id
  LEFT JOIN {premises} pr ON pr.id = c.premises_id
 WHERE e.created_at >= %s AND e.created_at < %s
   AND (e.kind IN ({kinds}) OR (e.kind = 'reversal' AND o.kind IN ({kinds})))
 GROUP BY 1, 2, 3
"""


def billed_rows(start: dt.datetime, end: dt.datetime) -> list[BilledRow]:
    """Charges recorded in [start, end) (less reversals of charges), by local day, category and
    district, as positive amounts."""
    day, day_params = _local_day_sql("e.created_at")
    kinds = ", ".join(f"'{k}'" for k in BILLED_KINDS)
    sql = _BILLED_SQL.format(day=day, kinds=kinds, **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, [*day_params, _at(start), _at(end)])
        rows = cursor.fetchall()
    return [BilledRow(_day(r[0]), r[1], r[2], _money(r[3])) for r in rows]


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
    """Replace the rollup rows of these days from the ledger (inside the caller's transaction)."""
    tz = timezone.get_current_timezone()
    for day in days:
        start, end = start_of_day(day, tz), start_of_day(day + dt.timedelta(days=1), tz)
        by_district: dict[tuple, list] = {}
        by_cashier: dict[tuple, list] = {}
        for row in money_rows(start, end):
            figures = (row.count, row.amount, row.refunds, row.reversals)
            for into, key in (
                (by_district, (row.channel, row.category, row.district)),
                (by_cashier, (row.channel, row.method, row.cashier_id, row.shift_id, row.category)),
            ):
                current = into.setdefault(key, [0, Decimal(0), Decimal(0), Decimal(0)])
                for i, value in enumerate(figures):
                    current[i] += value
        billed: dict[tuple, Decimal] = {}
        for b in billed_rows(start, end):
            billed[(b.category, b.district)] = billed.get((b.category, b.district), Decimal(0)) + b.billed
        CollectionsDay.objects.filter(day=day).delete()
        CollectionsCashierDay.objects.filter(day=day).delete()
        BilledDay.objects.filter(day=day).delete()
        CollectionsDay.objects.bulk_create(
            CollectionsDay(
                day=day,
                channel=k[0],
                category=k[1],
                district=k[2],
                count=v[0],
                amount=v[1],
                refunds=v[2],
                reversals=v[3],
            )
            for k, v in by_district.items()
        )
        CollectionsCashierDay.objects.bulk_create(
            CollectionsCashierDay(
                day=day,
                channel=k[0],
                method=k[1],
                cashier_id=k[2],
                shift_id=k[3],
                category=k[4],
                count=v[0],
                amount=v[1],
                refunds=v[2],
                reversals=v[3],
            )
            for k, v in by_cashier.items()
        )
        BilledDay.objects.bulk_create(
            BilledDay(day=day, category=k[0], district=k[1], billed=v) for k, v in billed.items() if v
        )
