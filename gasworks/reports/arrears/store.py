"""The arrears report's reads and its rollup's writes. The arrears themselves come from
gasworks.billing.arrears (set-based, one computation for the page, the report and late fees);
this adds the late fees charged in a span and the month-end rollup, all through the ORM."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Min
from django.utils import timezone

from gasworks.billing import arrears, ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.reports.arrears.models import ArrearsMonth
from gasworks.reports.framework import month_bounds, periods_between, shift_period

ROLLUP = "arrears-month"
ZERO = Decimal("0.00")
FIGURES = ("accounts", "debtors", "overdue", "d0_30", "d31_60", "d61_90", "d90", "not_due", "fees", "other")
KEYS = {"category": "account__customer__category", "district": "account__customer__premises__district"}


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def fees_charged(first: date, last: date, filters: dict, group: tuple[str, ...] = ()) -> dict:
    """Late fees charged on local days first..last (positive), per group key tuple, net of
    their reversals (a reversal counts on the day it was posted, as every ledger figure does).
    Two reads, each by kind and time through the ledger's index of rare kinds (one OR across a
    join would read a month of every entry)."""
    span = {"created_at__gte": start_of_day(first), "created_at__lt": start_of_day(last + timedelta(days=1))}
    out: dict[tuple, Decimal] = {}
    for entries in (
        LedgerEntry.objects.filter(kind=EntryKind.LATE_FEE, **span),
        LedgerEntry.objects.filter(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.LATE_FEE, **span),
    ):
        for name, value in filters.items():
            if value:
                entries = entries.filter(**{KEYS[name]: value})
        rows: Iterable[tuple]
        if group:
            rows = entries.values_list(*(KEYS[g] for g in group)).annotate(s=DecimalSum("amount")).order_by()
        else:
            # One total. (values_list() of no field would group by every entry: by its id alone
            # on PostgreSQL, which refuses that since the partitioned ledger's key is (id, created_at).)
            total = entries.aggregate(s=DecimalSum("amount"))["s"]
            rows = [] if total is None else [(total,)]
        for row in rows:
            out[tuple(row[:-1])] = out.get(tuple(row[:-1]), ZERO) - row[-1]
    return out


def live_totals(as_of: date, filters: dict, group: str = "") -> list[dict]:
    """The arrears as they stood at the end of ``as_of`` (today: as they stand now)."""
    return arrears.totals(as_of, filters, group, source=ledger.arrears_source(as_of, history=True))


def month_rollup(period: str, filters: dict) -> dict:
    """The rollup's figures of one month end, summed over the rows the filters keep."""
    rows = ArrearsMonth.objects.filter(period=period)
    for name, value in filters.items():
        if value:
            rows = rows.filter(**{name: value})
    sums = rows.aggregate(**{f: DecimalSum(f) for f in FIGURES[2:]}, fees_charged=DecimalSum("fees_charged"))
    counts = rows.values_list("accounts", "debtors")
    out = {f: sums[f] or ZERO for f in (*FIGURES[2:], "fees_charged")}
    out["accounts"] = sum(a for a, _d in counts)
    out["debtors"] = sum(d for _a, d in counts)
    return out


# --- the rollup: rebuilt per month, found by recorded time (gasworks.reports.rollups) -----------


def last_complete_period() -> str:
    return shift_period(period_of(timezone.localdate()), -1)


def touched(since) -> set:
    """Month ends not yet past when ``since`` was recorded: a row recorded since can only
    change those (every base row carries its posting time)."""
    first = period_of(timezone.localtime(since).date())
    last = last_complete_period()
    return set(periods_between(first, last)) if first <= last else set()


def all_keys() -> list[str]:
    first = LedgerEntry.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return []
    start = max(period_of(timezone.localtime(first).date()), shift_period(last_complete_period(), -35))
    last = last_complete_period()
    return periods_between(start, last) if start <= last else []


def rebuild(keys) -> None:
    """Replace each month's rows: arrears as of its last day (ledger and bills recorded before
    it ended) per category and district, and the late fees charged during it."""
    for period in keys:
        first, last = month_bounds(period)
        ArrearsMonth.objects.filter(period=period).delete()
        charged = fees_charged(first, last, {}, ("category", "district"))
        rows: dict[tuple, ArrearsMonth] = {}
        for found in live_totals(last, {}, "category,district"):
            category, district = found["key"]
            rows[(category, district)] = ArrearsMonth(
                period=period,
                category=category,
                district=district or "",
                **{f: found[f] for f in FIGURES},
            )
        for (category, district), amount in charged.items():
            row = rows.get((category, district or ""))
            if row is None:
                row = rows[(category, district or "")] = ArrearsMonth(
                    period=period, category=category, district=district or ""
                )
            row.fees_charged = amount
        ArrearsMonth.objects.bulk_create(rows.values())
