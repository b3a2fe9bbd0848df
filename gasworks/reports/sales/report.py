"""Gas sales (售气量): billed volume and amount by period, category, district or tier, with the
households billed, their average use and the same period a year earlier.

Where the figures come from: issued bills (void ones count nowhere) and their lines. A bill's
total is its lines (one per tier, or two when a price change splits the month) plus what it
charges beside them, the minimum-charge top-up and the meter rent; billing posts that total as
the bill's `charge` in the ledger (key `bill:<id>`). So `amount` is lines + `other_amount`, and
equals the ledger's charges for the same bills to the fen; grouped by tier, the non-volume items
are the row `other`.

`category` is the category the bill was priced in (its tariff's): a customer who changes
category, or a name transfer to a holder of another category, leaves last year's sales where
they were. `district` is the premises' district (a place does not move; a corrected district
moves its history with it, and the rollup rebuilds those periods).

Households: one bill per customer and period (a unique constraint), so the households billed in
a period are its bills. A row over several months shows the monthly average of households
(bills ÷ months) and `average` is the average monthly use per household (volume ÷ bills), so
both stay exact from per-period figures, at any range.

Reads come from the rollup (SalesRollup, rebuilt per period by gasworks.reports.rollups), except
the periods touched since its last refresh, which are summed live from the bills: exact even
before a refresh, fast after one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gasworks.billing.models import Bill, BillingRun, RunStatus, Tariff
from gasworks.customers.models import Category, Premises
from gasworks.lib.db import DecimalSum
from gasworks.reports import rollups
from gasworks.reports.framework import (
    Chart,
    Column,
    Params,
    Report,
    Result,
    pct,
    periods_between,
    shift_period,
)
from gasworks.reports.sales import store
from gasworks.reports.sales.models import SalesRollup
from gasworks.system.models import AuditEntry

NAME = "sales"
OTHER = "other"  # the tier row of the non-volume items (minimum-charge top-up, meter rent)
ZERO_VOLUME = Decimal("0.000")
ZERO_MONEY = Decimal("0.00")
GROUP_FIELDS = {"period": "period", "category": "category", "district": "district", "tier": "tier"}


@dataclass
class Sums:
    bills: int = 0  # bills, once each (tier 0 rows)
    tier_bills: int = 0  # bills with a line in the tier
    volume: Decimal = ZERO_VOLUME
    amount: Decimal = ZERO_MONEY
    other: Decimal = ZERO_MONEY  # minimum-charge top-up + meter rent

    def add(self, row: dict) -> None:
        self.bills += int(row["bills"] or 0)
        self.tier_bills += int(row["tier_bills"] or 0)
        self.volume += row["volume"] or ZERO_VOLUME
        self.amount += row["amount"] or ZERO_MONEY
        if row["tier"] == 0:
            self.other += row["amount"] or ZERO_MONEY


# --- the rollup: which periods changed, and their rebuild -------------------------------------


def touched(since: datetime) -> set[str]:
    """Periods whose figures may have changed since `since`, found by recorded time (never by
    id): bills written since (a billing run's through the run, others by their created_at),
    bills voided since (voided_at), and bills of premises whose district was corrected since
    (the audit log). A run that was done before `since + MARGIN` (before the last refresh began)
    had every chunk committed by then, so that refresh holds its bills: not touched any more."""
    periods: set[str] = set()
    trusted = since + rollups.MARGIN
    for period, status, finished in BillingRun.objects.values_list("period", "status", "finished_at"):
        if status in (RunStatus.DONE, RunStatus.CANCELLED) and finished is not None and finished < since:
            continue
        if status == RunStatus.DONE and finished is not None and finished < trusted:
            continue
        periods.add(period)
    periods.update(
        Bill.objects.filter(run__isnull=True, created_at__gte=since)
        .order_by()  # the bill's default ordering would join the DISTINCT
        .values_list("period", flat=True)
        .distinct()
    )
    periods.update(
        Bill.objects.filter(voided_at__gte=since).order_by().values_list("period", flat=True).distinct()
    )
    moved = [
        int(object_id)
        for object_id, before in AuditEntry.objects.filter(
            model="customers.Premises", action="update", at__gte=since
        ).values_list("object_id", "before")
        if isinstance(before, dict) and "district" in before
    ]
    if moved:
        periods.update(
            Bill.objects.filter(customer__premises_id__in=moved)
            .order_by()
            .values_list("period", flat=True)
            .distinct()
        )
    return periods


def all_keys() -> list[str]:
    return sorted(set(Bill.objects.order_by().values_list("period", flat=True).distinct()))


def rebuild(periods: list[str]) -> None:
    store.rebuild(periods)


# --- reading: rollup for settled periods, live for touched ones -------------------------------


def collect(
    period_from: str,
    period_to: str,
    filters: dict[str, str],
    fields: tuple[str, ...],
    live: set | None,
) -> dict[tuple, dict[int, Sums]]:
    """{group key (values of `fields`): {tier: Sums}} over the periods from..to, narrowed by
    `filters` (category, district, tariff). `live`: the periods to sum from the bills rather
    than read from the rollup (rollups.keys_to_read_live; None: all of them)."""
    periods = periods_between(period_from, period_to)
    live_periods = periods if live is None else [p for p in periods if p in live]
    rolled = [p for p in periods if p not in set(live_periods)]
    out: dict[tuple, dict[int, Sums]] = defaultdict(lambda: defaultdict(Sums))
    if rolled:
        query = SalesRollup.objects.filter(period__in=rolled)
        if filters.get("category"):
            query = query.filter(category=filters["category"])
        if filters.get("district"):
            query = query.filter(district=filters["district"])
        if filters.get("tariff"):
            query = query.filter(tariff_id=int(filters["tariff"]))
        sums = (
            query.order_by()
            .values(*[f for f in fields if f != "tier"], "tier")
            .annotate(
                s_bills=Sum("bills"),
                s_tier_bills=Sum("tier_bills"),
                s_volume=DecimalSum("volume"),
                s_amount=DecimalSum("amount"),
            )
        )
        for row in sums:
            out[tuple(row[f] for f in fields)][row["tier"]].add(
                {
                    "tier": row["tier"],
                    "bills": row["s_bills"],
                    "tier_bills": row["s_tier_bills"],
                    "volume": row["s_volume"],
                    "amount": row["s_amount"],
                }
            )
    for row in store.aggregate(live_periods, filters):
        out[tuple(row[f] for f in fields)][row["tier"]].add(row)
    return out


def billed_volume(
    period_from: str, period_to: str, district: str | None = None
) -> dict[tuple[str, str], Decimal]:
    """{(district, period): billed volume in m³} of issued bills, by the premises' district:
    the sales side of the supply–sales balance."""
    filters = {"district": district} if district else {}
    found = collect(period_from, period_to, filters, ("district", "period"), rollups.keys_to_read_live(NAME))
    return {key: sum((s.volume for s in tiers.values()), ZERO_VOLUME) for key, tiers in found.items()}


# --- the report -------------------------------------------------------------------------------


def _tier_label(code) -> str:
    if code == OTHER:
        return str(_("Minimum charge and meter rent"))
    return str(_("Tier %(n)s") % {"n": code})


def _district_label(code) -> str:
    return code or str(_("(no district)"))


class SalesReport(Report):
    name = NAME
    title = _("Gas sales")
    description = _(
        "Billed gas from issued bills (void bills excluded), in the category each bill was priced in "
        "and the district of its premises. Amount = tier lines + minimum charge and meter rent = the "
        "ledger's charges for these bills. Households: bills in a month; over several months, their "
        "monthly average. Average: monthly use per household."
    )
    permission = "reports.view_sales_report"
    period = "month"
    group_by = ("period", "category", "district", "tier")
    group_labels = {
        "period": _("Period"),
        "category": _("Category"),
        "district": _("District"),
        "tier": _("Tier"),
    }
    filters = ("category", "district", "tariff")

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "category":
            return [(code, str(label)) for code, label in Category.choices]
        if name == "tariff":
            return [(str(pk), label) for pk, label in Tariff.objects.order_by("pk").values_list("pk", "name")]
        if name == "district":
            return [(d, d) for d in districts()]
        return []

    def columns(self, params: Params, months: int) -> list[Column]:
        group = params.group_by
        key = {
            "period": Column("period", _("Period"), "period"),
            "category": Column("category", _("Category"), "code", dict(Category.choices)),
            "district": Column("district", _("District"), "code", _district_label),
            "tier": Column("tier", _("Tier"), "code", _tier_label),
        }[group]
        # Over several months households are a monthly average (the total's, at least): 2 places.
        columns = [
            key,
            Column("bills", _("Bills"), "count"),
            Column(
                "households",
                _("Households") if group == "period" or months == 1 else _("Households (monthly average)"),
                "count" if months == 1 else "number",
            ),
            Column("volume", _("Volume, m³"), "volume"),
            Column("average", _("Average per household, m³"), "volume"),
            Column("amount", _("Amount"), "money"),
        ]
        if group != "tier":
            columns.append(Column("other_amount", _("Of which minimum charge and meter rent"), "money"))
        columns += [
            Column("volume_last_year", _("Volume last year, m³"), "volume"),
            Column("amount_last_year", _("Amount last year"), "money"),
            Column("volume_change_pct", _("Volume change, %"), "percent"),
            Column("amount_change_pct", _("Amount change, %"), "percent"),
        ]
        return columns

    def run(self, params: Params) -> Result:
        group = params.group_by or "period"
        months = len(periods_between(params.period_from, params.period_to))
        filters = dict(params.filters)
        live = rollups.keys_to_read_live(NAME)  # asked once: the same answer for both years
        fields = (GROUP_FIELDS[group],)
        this, total = _shape(
            collect(params.period_from, params.period_to, filters, fields, live), group, months
        )
        ly_from, ly_to = shift_period(params.period_from, -12), shift_period(params.period_to, -12)
        last, last_total = _shape(collect(ly_from, ly_to, filters, fields, live), group, months)
        if group == "period":
            last = {shift_period(key, 12): value for key, value in last.items()}
        keys = set(this) | set(last)
        if group == "period":  # every month of the range: a month with no bills is a fact too
            keys = set(periods_between(params.period_from, params.period_to))
        rows = []
        for key in sorted(keys, key=lambda k: _order(group, k)):
            row = {group: key, **(this.get(key) or _empty(1 if group == "period" else months))}
            _compare(row, last.get(key))
            rows.append(row)
        _compare(total, last_total)
        if group == "tier":
            for row in [*rows, total]:
                row.pop("other_amount", None)
        columns = self.columns(params.but(group_by=group), months)
        return Result(columns, rows, {group: None, **total}, _chart(group), notes=self._notes(group))

    def _notes(self, group: str) -> list:
        if group == "tier":
            return [
                (
                    _("Tiers"),
                    str(
                        _(
                            "A bill with use in several tiers counts in each of them, so the bills "
                            "of the rows add up to more than the total; volumes and amounts add up."
                        )
                    ),
                )
            ]
        return []

    def drill(self, params: Params, row: dict) -> str:
        """The bills behind a row: the bill list filtered the same way (issued bills only)."""
        query: dict[str, str] = {"status": "issued", **{k: v for k, v in params.filters.items() if v}}
        group = params.group_by or "period"
        value = str(row.get(group) or "")
        if group == "period":
            query["period"] = value
        else:
            query["from"], query["to"] = params.period_from, params.period_to
            if group == "tier":
                query["tier"] = value
            elif value:
                query[group] = value
            else:
                return ""  # a blank district cannot be asked for
        return f"{reverse('billing:bill-list')}?{urlencode(query)}"


def _shape(found: dict[tuple, dict[int, Sums]], group: str, months: int) -> tuple[dict, dict]:
    """({group code: figures}, the total's figures) of what collect() found. Per tier, `bills`
    are the bills with use in that tier (non-additive, said on the page); the total counts every
    bill once (the tier-0 count)."""
    rows: dict = {}
    whole = Sums()
    by_tier: dict[int, Sums] = defaultdict(Sums)
    for (key,), tiers in found.items():
        row = Sums()
        for tier, sums in tiers.items():
            for target in (row, whole, by_tier[tier]):
                target.bills += sums.bills
                target.tier_bills += sums.tier_bills
                target.volume += sums.volume
                target.amount += sums.amount
                target.other += sums.other
        if group != "tier":
            rows[key] = _figures(
                row.bills, row.volume, row.amount, row.other, 1 if group == "period" else months
            )
    if group == "tier":
        for tier, sums in by_tier.items():
            if tier == 0 and not sums.tier_bills and not sums.amount:
                continue  # no bill charged anything beside its lines
            figures = _figures(sums.tier_bills, sums.volume, sums.amount, sums.other, months)
            if tier == 0:
                figures["average"] = None  # no gas in this row: an average use would say 0
            rows[OTHER if tier == 0 else str(tier)] = figures
    return rows, _figures(whole.bills, whole.volume, whole.amount, whole.other, months)


def _figures(bills: int, volume: Decimal, amount: Decimal, other: Decimal, months: int) -> dict:
    """A row's figures: households = bills (one per customer and month) averaged over the row's
    months; average = monthly use per household."""
    return {
        "bills": bills,
        "households": bills if months == 1 else Decimal(bills) / Decimal(months),
        "volume": volume,
        "average": (volume / bills).quantize(Decimal("0.001")) if bills else None,
        "amount": amount,
        "other_amount": other,
    }


def _empty(months: int) -> dict:
    return _figures(0, ZERO_VOLUME, ZERO_MONEY, ZERO_MONEY, months)


def _compare(row: dict, last: dict | None) -> None:
    last_volume = last["volume"] if last else ZERO_VOLUME
    last_amount = last["amount"] if last else ZERO_MONEY
    row["volume_last_year"] = last_volume
    row["amount_last_year"] = last_amount
    row["volume_change_pct"] = pct(row["volume"] - last_volume, last_volume)
    row["amount_change_pct"] = pct(row["amount"] - last_amount, last_amount)


def _order(group: str, key):
    if group == "category":
        codes = list(Category.values)
        return (codes.index(key) if key in codes else len(codes), key)
    if group == "tier":
        return (1, 0) if key == OTHER else (0, int(key))
    return (0, key)


def _chart(group: str) -> Chart:
    if group == "period":
        return Chart("line", "period", ("volume", "volume_last_year"))
    if group == "district":
        return Chart("bar", "district", ("volume", "volume_last_year"))
    if group == "tier":
        return Chart("pie", "tier", ("amount",))
    return Chart("pie", "category", ("volume",))


DISTRICTS_CACHE = "reports:sales:districts"


def districts() -> list[str]:
    """The districts offered by the filter: those of the premises (a scan of one small index),
    kept five minutes."""
    found = cache.get(DISTRICTS_CACHE)
    if found is None:
        found = sorted(
            d for d in Premises.objects.order_by().values_list("district", flat=True).distinct() if d
        )
        cache.set(DISTRICTS_CACHE, found, 300)
    return found
