"""The LPG report's reads: per local day, fills and kg, refused fills, deliveries and deposits,
from the base tables (indexed by `filled_at`, `FillRefusal.at`, `delivered_at`, `CylinderReturn.at`)
or from the rollup; and the state figures no rollup needs (cylinders due, empties owed)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from gasworks.cylinders.models import (
    Cylinder,
    CylinderReturn,
    CylinderStatus,
    Filling,
    FillRefusal,
    LpgOrder,
    OrderStatus,
)
from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum
from gasworks.reports import rollups
from gasworks.reports.lpg.models import LpgFillDay, LpgOrderDay, LpgRefusalDay

ROLLUP = "lpg"
DAY = datetime.timedelta(days=1)
ZERO = Decimal("0")
ORDER_FIGURES = ("deliveries", "cylinders", "amount", "empties_back", "deposits_taken", "deposits_refunded")


def _local_day(name: str) -> TruncDate:
    return TruncDate(name, tzinfo=timezone.get_current_timezone())


def _span(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return start_of_day(first), start_of_day(last + DAY)


@dataclass
class Facts:
    """fills[(day, station, filler, model)] → Counter(fills, kg); refusals[(day, station, filler,
    model, reason)] → count; orders[(day, model)] → Counter of ORDER_FIGURES (model "" holds the
    deposit refunds of returns for good)."""

    fills: dict = field(default_factory=lambda: defaultdict(Counter))
    refusals: Counter = field(default_factory=Counter)
    orders: dict = field(default_factory=lambda: defaultdict(Counter))

    def keep(self, days: set) -> Facts:
        return Facts(
            defaultdict(Counter, {k: v for k, v in self.fills.items() if k[0] in days}),
            Counter({k: v for k, v in self.refusals.items() if k[0] in days}),
            defaultdict(Counter, {k: v for k, v in self.orders.items() if k[0] in days}),
        )

    def add(self, other: Facts) -> None:
        for key, figures in other.fills.items():
            self.fills[key].update(figures)
        self.refusals.update(other.refusals)
        for key, figures in other.orders.items():
            self.orders[key].update(figures)


def compute(first: datetime.date, last: datetime.date) -> Facts:
    """The figures of every day from first to last, from the base tables."""
    low, high = _span(first, last)
    facts = Facts()
    fills = (
        Filling.objects.filter(filled_at__gte=low, filled_at__lt=high)
        .annotate(day=_local_day("filled_at"))
        .values("day", "station__code", "filled_by__username", "cylinder__model")
        .annotate(n=Count("pk"), kg=DecimalSum("net_kg"))
    )
    for row in fills:
        key = (row["day"], row["station__code"], row["filled_by__username"] or "", row["cylinder__model"])
        facts.fills[key].update(fills=row["n"], kg=row["kg"] or ZERO)
    refusals = (
        FillRefusal.objects.filter(at__gte=low, at__lt=high)
        .annotate(day=_local_day("at"))
        .values("day", "station__code", "by__username", "cylinder__model", "reason")
        .annotate(n=Count("pk"))
    )
    for refused in refusals:
        where = (refused["day"], refused["station__code"], refused["by__username"] or "")
        facts.refusals[(*where, refused["cylinder__model"], refused["reason"])] += refused["n"]
    orders = (
        LpgOrder.objects.filter(status=OrderStatus.DELIVERED, delivered_at__gte=low, delivered_at__lt=high)
        .annotate(day=_local_day("delivered_at"))
        .values("day", "model")
        .annotate(
            n=Count("pk"),
            cylinders=Sum("quantity"),
            amount=DecimalSum("amount"),
            back=Sum("empties_returned"),
            deposits=DecimalSum("deposit_amount"),
        )
    )
    for order in orders:
        facts.orders[(order["day"], order["model"])].update(
            deliveries=order["n"],
            cylinders=order["cylinders"] or 0,
            amount=order["amount"] or ZERO,
            empties_back=order["back"] or 0,
            deposits_taken=order["deposits"] or ZERO,
        )
    returns = (
        CylinderReturn.objects.filter(at__gte=low, at__lt=high)
        .annotate(day=_local_day("at"))
        .values("day")
        .annotate(money=DecimalSum("amount"))
    )
    for back in returns:
        facts.orders[(back["day"], "")]["deposits_refunded"] += back["money"] or ZERO
    return facts


def _rollup_facts(first: datetime.date, last: datetime.date) -> Facts:
    facts = Facts()
    for fill in LpgFillDay.objects.filter(day__gte=first, day__lte=last):
        facts.fills[(fill.day, fill.station, fill.filler, fill.model)].update(fills=fill.fills, kg=fill.kg)
    for refused in LpgRefusalDay.objects.filter(day__gte=first, day__lte=last):
        where = (refused.day, refused.station, refused.filler)
        facts.refusals[(*where, refused.model, refused.reason)] += refused.refusals
    for order in LpgOrderDay.objects.filter(day__gte=first, day__lte=last):
        facts.orders[(order.day, order.model)].update({k: getattr(order, k) for k in ORDER_FIGURES})
    return facts


def facts(first: datetime.date, last: datetime.date) -> Facts:
    """Days touched since the last refresh (or all, before the first) from the base tables, every
    other day from the rollup."""
    live = rollups.keys_to_read_live(ROLLUP)
    if live is None:
        return compute(first, last)
    days = {first + DAY * i for i in range((last - first).days + 1)}
    live = {d for d in live if first <= d <= last}
    result = _rollup_facts(first, last).keep(days - live)
    if live:
        result.add(compute(min(live), max(live)).keep(live))
    return result


def deposits_held(last: datetime.date) -> Decimal:
    """Deposits taken on deliveries less those refunded, up to the end of `last`: the money the
    ledger's deposit entries hold (they are posted in the same transactions)."""
    live = rollups.keys_to_read_live(ROLLUP)
    if live is None:
        end = start_of_day(last + DAY)
        taken = LpgOrder.objects.filter(status=OrderStatus.DELIVERED, delivered_at__lt=end).aggregate(
            m=DecimalSum("deposit_amount")
        )["m"]
        refunded = CylinderReturn.objects.filter(at__lt=end).aggregate(m=DecimalSum("amount"))["m"]
        return (taken or ZERO) - (refunded or ZERO)
    live = {d for d in live if d <= last}
    sums = (
        LpgOrderDay.objects.filter(day__lte=last)
        .exclude(day__in=live)
        .aggregate(taken=DecimalSum("deposits_taken"), refunded=DecimalSum("deposits_refunded"))
    )
    held = (sums["taken"] or ZERO) - (sums["refunded"] or ZERO)
    if live:
        for figures in compute(min(live), max(live)).keep(live).orders.values():
            held += figures["deposits_taken"] - figures["deposits_refunded"]
    return held


def rebuild(keys: list) -> None:
    """Rebuild these days, one computation per month of them (not one per day)."""
    for days in rollups.by_month(keys):
        LpgFillDay.objects.filter(day__in=days).delete()
        LpgRefusalDay.objects.filter(day__in=days).delete()
        LpgOrderDay.objects.filter(day__in=days).delete()
        fresh = compute(min(days), max(days)).keep(days)
        LpgFillDay.objects.bulk_create(
            LpgFillDay(day=d, station=station, filler=filler, model=model, fills=f["fills"], kg=f["kg"])
            for (d, station, filler, model), f in fresh.fills.items()
        )
        LpgRefusalDay.objects.bulk_create(
            LpgRefusalDay(day=d, station=station, filler=filler, model=model, reason=reason, refusals=n)
            for (d, station, filler, model, reason), n in fresh.refusals.items()
        )
        LpgOrderDay.objects.bulk_create(
            LpgOrderDay(day=d, model=model, **{k: f[k] for k in ORDER_FIGURES})
            for (d, model), f in fresh.orders.items()
        )


def _days(queryset, name: str) -> set:
    return set(queryset.annotate(day=_local_day(name)).values_list("day", flat=True).distinct())


def touched(since: datetime.datetime) -> set:
    """Fills, refusals, deliveries and returns are written once and never change: the days of
    those recorded since `since`."""
    return (
        _days(Filling.objects.filter(filled_at__gte=since), "filled_at")
        | _days(FillRefusal.objects.filter(at__gte=since), "at")
        | _days(LpgOrder.objects.filter(delivered_at__gte=since), "delivered_at")
        | _days(CylinderReturn.objects.filter(at__gte=since), "at")
    )


def all_keys() -> set:
    return (
        _days(Filling.objects.all(), "filled_at")
        | _days(FillRefusal.objects.all(), "at")
        | _days(LpgOrder.objects.filter(delivered_at__isnull=False), "delivered_at")
        | _days(CylinderReturn.objects.all(), "at")
    )


rollups.register(rollups.Rollup(ROLLUP, touched=touched, rebuild=rebuild, all_keys=all_keys, chunk=366))


# ---------------------------------------------------------------- state


def cylinders_due(last: datetime.date, station: str = "") -> dict:
    """Cylinders in service (not scrapped, not away at inspection) whose inspection date or scrap
    date falls on or before `last`, per (owner station, model): Counter(inspection, scrap)."""
    rows = Cylinder.objects.exclude(
        status__in=[CylinderStatus.SCRAPPED, CylinderStatus.AT_INSPECTION]
    ).filter(Q(next_inspection_on__lte=last) | Q(scrap_on__lte=last))
    if station:
        rows = rows.filter(owner__code=station)
    out: dict = defaultdict(Counter)
    for row in rows.values("owner__code", "model").annotate(
        inspection=Count("pk", filter=Q(next_inspection_on__lte=last)),
        scrap=Count("pk", filter=Q(scrap_on__lte=last)),
    ):
        out[(row["owner__code"], row["model"])].update(inspection=row["inspection"], scrap=row["scrap"])
    return out


def empties_owed() -> int:
    """Cylinders customers hold without a deposit, now: per customer, held − deposits not
    refunded, never below zero (the rule of orders.customer_cylinders), summed."""
    held = dict(
        Cylinder.objects.filter(status=CylinderStatus.AT_CUSTOMER, customer__isnull=False)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
    )
    if not held:
        return 0
    holders = Cylinder.objects.filter(status=CylinderStatus.AT_CUSTOMER).values("customer_id")
    deposits: Counter = Counter()
    for customer_id, n in (
        LpgOrder.objects.filter(status=OrderStatus.DELIVERED, customer_id__in=holders)
        .values("customer_id")
        .annotate(n=Sum("deposits_taken"))
        .values_list("customer_id", "n")
    ):
        deposits[customer_id] += n or 0
    for customer_id, n in (
        CylinderReturn.objects.filter(customer_id__in=holders)
        .values("customer_id")
        .annotate(n=Sum("deposits_refunded"))
        .values_list("customer_id", "n")
    ):
        deposits[customer_id] -= n or 0
    return sum(max(n - deposits[customer_id], 0) for customer_id, n in held.items())
