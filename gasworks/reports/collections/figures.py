"""The collections figures for a range of local days, grouped and filtered: read from the rollup
for the days no ledger entry has touched since its last refresh, and from the ledger for the
others (gasworks/reports/rollups.py). Both paths give the same numbers; a test holds them to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.reports import rollups
from gasworks.reports.collections import store
from gasworks.reports.collections.models import BilledDay, CollectionsCashierDay, CollectionsDay

ROLLUP = "collections"
GROUPS = ("day", "month", "channel", "cashier", "shift", "method")
# Groupings and filters only the cashier grain holds.
CASHIER_GRAIN = {"cashier", "shift", "method"}
ZERO = Decimal("0.00")


@dataclass
class Figures:
    count: int = 0
    amount: Decimal = ZERO
    refunds: Decimal = ZERO
    reversals: Decimal = ZERO
    billed: Decimal = ZERO
    shifts: set = field(default_factory=set)

    @property
    def net(self) -> Decimal:
        return self.amount - self.refunds - self.reversals

    def add(self, count=0, amount=ZERO, refunds=ZERO, reversals=ZERO, billed=ZERO) -> None:
        self.count += int(count or 0)
        self.amount += Decimal(amount or 0)
        self.refunds += Decimal(refunds or 0)
        self.reversals += Decimal(reversals or 0)
        self.billed += Decimal(billed or 0)


@dataclass(frozen=True)
class Query:
    start: dt.date
    end: dt.date  # inclusive
    group: str
    channel: str = ""
    cashier: int | None = None
    category: str = ""
    district: str = ""
    counter_only: bool = False  # payments taken in a cashier's shift (the daily report)

    @property
    def billed_applies(self) -> bool:
        """Charges have no channel or cashier: billed is shown only for the whole station."""
        return self.group in ("day", "month") and not (self.channel or self.cashier or self.counter_only)

    @property
    def cashier_grain(self) -> bool:
        return self.group in CASHIER_GRAIN or self.cashier is not None or self.counter_only


def _key(group: str, day: dt.date, row) -> object:
    if group == "day":
        return day
    if group == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return getattr(row, {"cashier": "cashier_id", "shift": "shift_id"}.get(group, group))


def _live_range(query: Query, force_live: bool) -> tuple[dt.date, dt.date] | None:
    """The days of the query read from the ledger: every day when there is no rollup yet (or
    the rollup cannot answer), else the days touched since its last refresh."""
    if force_live:
        return query.start, query.end
    touched = rollups.keys_to_read_live(ROLLUP)
    if touched is None:
        return query.start, query.end
    days = [d for d in touched if query.start <= d <= query.end]
    return (min(days), max(days)) if days else None


def _wanted(query: Query, row) -> bool:
    return (
        (not query.channel or row.channel == query.channel)
        and (query.cashier is None or row.cashier_id == query.cashier)
        and (not query.category or row.category == query.category)
        and (not query.district or row.district == query.district)
        and (not query.counter_only or row.shift_id is not None)
    )


def collect(query: Query, force_live: bool = False) -> dict[object, Figures]:
    """{group key: figures} for the query; keys with nothing in them are left out."""
    # The cashier grain has no district: a district filter on a cashier view reads the ledger.
    live = _live_range(query, force_live or (query.cashier_grain and bool(query.district)))
    out: dict[object, Figures] = {}
    if live is not None:
        _collect_live(query, live, out)
    _collect_rollup(query, live, out)
    return out


def _collect_live(query: Query, live: tuple[dt.date, dt.date], out: dict) -> None:
    start, end = start_of_day(live[0]), start_of_day(live[1] + dt.timedelta(days=1))
    for row in store.money_rows(start, end):
        if _wanted(query, row):
            figures = out.setdefault(_key(query.group, row.day, row), Figures())
            figures.add(row.count, row.amount, row.refunds, row.reversals)
            if query.cashier_grain and row.shift_id is not None:
                figures.shifts.add(row.shift_id)
    if query.billed_applies:
        for b in store.billed_rows(start, end):
            if (not query.category or b.category == query.category) and (
                not query.district or b.district == query.district
            ):
                out.setdefault(_key(query.group, b.day, b), Figures()).add(billed=b.billed)


def _outside(live: tuple[dt.date, dt.date] | None) -> Q:
    return Q() if live is None else Q(day__lt=live[0]) | Q(day__gt=live[1])


def _collect_rollup(query: Query, live, out: dict) -> None:
    if live == (query.start, query.end):
        return
    days = Q(day__gte=query.start, day__lte=query.end) & _outside(live)
    table: Any = CollectionsCashierDay if query.cashier_grain else CollectionsDay
    rows = table.objects.filter(days)
    if query.channel:
        rows = rows.filter(channel=query.channel)
    if query.category:
        rows = rows.filter(category=query.category)
    if query.cashier is not None:
        rows = rows.filter(cashier_id=query.cashier)
    if query.counter_only:
        rows = rows.filter(shift_id__isnull=False)
    if query.district:  # only on the district grain (see collect)
        rows = rows.filter(district=query.district)
    by = {"day": "day", "month": "day", "cashier": "cashier_id", "shift": "shift_id"}.get(
        query.group, query.group
    )
    fields = [by, "shift_id"] if query.cashier_grain and by != "shift_id" else [by]
    sums = rows.values(*fields).annotate(
        n=Sum("count"), a=DecimalSum("amount"), r=DecimalSum("refunds"), v=DecimalSum("reversals")
    )
    for row in sums.order_by():
        key = row[by] if query.group != "month" else f"{row['day'].year:04d}-{row['day'].month:02d}"
        figures = out.setdefault(key, Figures())
        figures.add(row["n"], row["a"], row["r"], row["v"])
        if row.get("shift_id") is not None:
            figures.shifts.add(row["shift_id"])
    if query.billed_applies:
        billed = BilledDay.objects.filter(days)
        if query.category:
            billed = billed.filter(category=query.category)
        if query.district:
            billed = billed.filter(district=query.district)
        for row in billed.values("day").annotate(b=DecimalSum("billed")).order_by():
            key = row["day"] if query.group == "day" else f"{row['day'].year:04d}-{row['day'].month:02d}"
            out.setdefault(key, Figures()).add(billed=row["b"])


def register_rollup() -> None:
    rollups.register(
        rollups.Rollup(
            name=ROLLUP,
            touched=store.touched_days,
            rebuild=store.rebuild_days,
            all_keys=store.all_days,
            chunk=366,  # a year of days per transaction, rebuilt a month at a time
        )
    )
