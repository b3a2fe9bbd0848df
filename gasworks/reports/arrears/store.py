"""The arrears report's reads and its rollup's writes. The arrears themselves come from
gasworks.billing.arrears (set-based, one computation for the page, the report and late fees);
this adds the late fees charged in a span and the day-end rollup, all through the ORM."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from gasworks.billing import arrears, ledger
from gasworks.billing.models import EntryKind, LedgerEntry
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.reports.arrears.models import ArrearsDay
from gasworks.reports.framework import month_bounds, shift_period

ROLLUP = "arrears-day"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
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


def _stored_rows(first: date, last: date, filters: dict):
    rows = ArrearsDay.objects.filter(day__gte=first, day__lte=last)
    for name, value in filters.items():
        if value:
            rows = rows.filter(**{name: value})
    return rows


def day_totals(day: date, filters: dict, group: str = "") -> list[dict]:
    """The rollup's figures at the end of ``day`` as live_totals gives them: one row for all
    (""), or one per category or district with an account in debt."""
    rows = _stored_rows(day, day, filters)
    sums = {
        "accounts_": Sum("accounts"),
        "debtors_": Sum("debtors"),
        **{f"{f}_": DecimalSum(f) for f in FIGURES[2:]},
    }
    # One total: aggregate() (values() of no field would group by every column).
    found_rows = rows.values(group).annotate(**sums).order_by(group) if group else [rows.aggregate(**sums)]
    out = []
    for found in found_rows:
        row: dict = {"key": found[group] if group else ""}
        row["accounts"], row["debtors"] = int(found["accounts_"] or 0), int(found["debtors_"] or 0)
        for f in FIGURES[2:]:
            row[f] = Decimal(found[f"{f}_"] or 0).quantize(CENT)
        row["debt"] = row["overdue"] + row["not_due"] + row["fees"] + row["other"]
        if not group or row["debtors"]:  # a group with only a fee charged and paid: not in debt
            out.append(row)
    if not out and not group:
        out = [{"key": "", **dict.fromkeys(FIGURES[:2], 0), **dict.fromkeys((*FIGURES[2:], "debt"), ZERO)}]
    return out


def day_fees_month(day: date, filters: dict) -> Decimal:
    """Late fees charged from the first of ``day``'s month to its end, from the rollup."""
    total = _stored_rows(day, day, filters).aggregate(s=DecimalSum("fees_month"))["s"]
    return Decimal(total or 0).quantize(CENT)


def stored(days: set, live: set | None) -> bool:
    """Whether the rollup holds each of these days: built (every built day has a row), past,
    and not touched since the last refresh (``live``: rollups.keys_to_read_live; None: no
    refresh yet)."""
    if live is None or live & days or max(days) >= timezone.localdate():
        return False
    return ArrearsDay.objects.filter(day__in=days).values("day").distinct().count() == len(days)


# --- the rollup: rebuilt per day, found by recorded time (gasworks.reports.rollups) -------------

# A first (full) build: the month ends the 12-month trend of any day in the last year reads, and
# every day of this month and the last; the nightly refresh adds each day as it ends. (A day
# is one computation of the whole ledger as it stood: a year of days would take 365 of them.)
TREND_MONTHS = 25


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def touched(since) -> set:
    """Days not yet past when ``since`` was recorded: a row recorded since can only change
    those (every base row carries its posting time)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    return set(_days(timezone.localtime(since).date(), yesterday))


def all_keys() -> list[date]:
    """Month ends before the first entry are built too (empty, cheap): a trend reaching back
    past the ledger's start then reads the rollup as well."""
    if not LedgerEntry.objects.exists():
        return []
    yesterday = timezone.localdate() - timedelta(days=1)
    this = period_of(yesterday)
    ends = {month_bounds(shift_period(this, -n))[1] for n in range(1, TREND_MONTHS + 1)}
    return sorted(ends.union(_days(month_bounds(shift_period(this, -1))[0], yesterday)))


def rebuild(keys) -> None:
    """Replace each day's rows: arrears as of its end (ledger and bills recorded before it
    ended) per category and district, one set-based computation a day, and the late fees
    charged in its month up to then."""
    for day in keys:
        ArrearsDay.objects.filter(day=day).delete()
        first, _last = month_bounds(period_of(day))
        charged = fees_charged(first, day, {}, ("category", "district"))
        rows: dict[tuple, ArrearsDay] = {}
        for found in live_totals(day, {}, "category,district"):
            category, district = found["key"]
            rows[(category, district or "")] = ArrearsDay(
                day=day, category=category, district=district or "", **{f: found[f] for f in FIGURES}
            )
        for (category, district), amount in charged.items():
            row = rows.get((category, district or ""))
            if row is None:
                row = rows[(category, district or "")] = ArrearsDay(
                    day=day, category=category, district=district or ""
                )
            row.fees_month = amount
        ArrearsDay.objects.bulk_create(rows.values() or [ArrearsDay(day=day, category="")])
