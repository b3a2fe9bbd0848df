"""The supply–sales balance's reads. Supply: the readings of the few supply meters, by their
(meter, taken_at) index. Sales: issued bills' volume by the customer's district. Suspects: one
aggregate per rule over the readings of one district's meters. Only the district list needs SQL
of its own (a skip scan on PostgreSQL); the rest is ORM, kept here beside it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from gasworks.customers.models import Customer, Premises
from gasworks.customers.models import Status as CustomerStatus
from gasworks.lib import replicas
from gasworks.lib.db import DecimalSum
from gasworks.metering import billable
from gasworks.metering.models import Meter, MeterKind, MeterStatus, Reading, ReadingStatus, TamperAlert
from gasworks.metering.store import billing_customers

ZERO = Decimal("0.000")


def _month(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m")


def supply_meters() -> dict[int, str]:
    """id -> district of every supply meter, removed ones too (their past readings count)."""
    return dict(Meter.objects.filter(kind=MeterKind.DISTRICT).values_list("pk", "district"))


def supply_volume(start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str], Decimal]:
    """(district, YYYY-MM) -> the district's supply meters' volume at base conditions in
    [start, end): billable readings (the billing rule, gasworks.metering.billable: corrected
    volume where the meter corrects), grouped by the station's local month. A key is present
    only when the district had a billable supply reading in that month."""
    meters = supply_meters()
    if not meters:
        return {}
    rows = (
        billable.readings(start, end)
        .filter(meter_id__in=list(meters))
        .annotate(month=TruncMonth("taken_at"))
        .values("meter_id", "month")
        .annotate(volume=DecimalSum(billable.VOLUME))
        .order_by()
    )
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        key = (meters[row["meter_id"]], _month(row["month"]))
        out[key] += row["volume"] or ZERO
    return dict(out)


def districts() -> list[str]:
    """Every district name in use: premises' districts and supply meters' districts."""
    names = set(Meter.objects.exclude(district="").values_list("district", flat=True).distinct())
    if connection.vendor == "postgresql":
        # A skip scan down premises_district_idx: one index probe per district instead of
        # reading the index's million entries for a handful of names.
        table = Premises._meta.db_table
        sql = f"""
        WITH RECURSIVE d(name) AS (
            (SELECT district FROM {table} WHERE district > '' ORDER BY district LIMIT 1)
            UNION ALL
            SELECT (SELECT p.district FROM {table} p WHERE p.district > d.name
                    ORDER BY p.district LIMIT 1)
            FROM d WHERE d.name IS NOT NULL
        ) SELECT name FROM d WHERE name IS NOT NULL
        """  # noqa: S608 - the table name comes from the model
        with replicas.read_connection().cursor() as cursor:
            cursor.execute(sql)
            names.update(name for (name,) in cursor.fetchall())
    else:
        names.update(Premises.objects.exclude(district="").values_list("district", flat=True).distinct())
    return sorted(names)


# ---------------------------------------------------------------- suspects


def district_meters(district: str):
    """The customers' meters of a district (supply meters excluded)."""
    return Meter.objects.filter(premises__district=district).exclude(kind=MeterKind.DISTRICT)


def open_alerts(district: str, before: dt.datetime) -> list[TamperAlert]:
    """Tamper alerts on the district's meters raised before ``before`` and still open."""
    return list(
        TamperAlert.objects.filter(
            meter__in=district_meters(district), closed_at__isnull=True, raised_at__lt=before
        )
        .select_related("meter")
        .order_by("raised_at", "pk")
    )


def doubtful_readings(district: str, start: dt.datetime, end: dt.datetime) -> dict[int, tuple[int, int]]:
    """meter id -> (flagged, estimated) readings taken in [start, end)."""
    rows = (
        Reading.objects.filter(
            meter__in=district_meters(district),
            taken_at__gte=start,
            taken_at__lt=end,
            status__in=(ReadingStatus.FLAGGED, ReadingStatus.ESTIMATED),
        )
        .values("meter_id")
        .annotate(
            flagged=Count("pk", filter=Q(status=ReadingStatus.FLAGGED)),
            estimated=Count("pk", filter=Q(status=ReadingStatus.ESTIMATED)),
        )
        .order_by()
    )
    return {r["meter_id"]: (r["flagged"], r["estimated"]) for r in rows}


def zero_use(district: str, since: dt.datetime, end: dt.datetime) -> list[int]:
    """Installed meters of active accounts, installed before ``since``, whose readings in
    [since, end) all show no consumption (at least one reading with a volume: an unread meter
    is the reading report's business). Flagged readings count as evidence too: after
    vee_zero_days of standstill VEE flags each new zero reading (zero_long)."""
    meters = district_meters(district).filter(
        status=MeterStatus.INSTALLED,
        installed_on__lt=timezone.localtime(since).date(),
        premises__customers__status=CustomerStatus.ACTIVE,
    )
    rows = (
        Reading.objects.filter(meter__in=meters, taken_at__gte=since, taken_at__lt=end)
        .exclude(status=ReadingStatus.REJECTED)
        .filter(consumption__isnull=False)
        .values("meter_id")
        .annotate(n=Count("pk"), moved=Count("pk", filter=~Q(consumption=0)))
        .order_by()
    )
    return sorted(r["meter_id"] for r in rows if r["n"] and not r["moved"])


def volumes(district: str, windows: dict[str, tuple[dt.datetime, dt.datetime]]) -> dict[int, dict]:
    """meter id -> {window name: (volume, readings)} of billable readings in each window."""
    low = min(w[0] for w in windows.values())
    high = max(w[1] for w in windows.values())
    aggregates: dict[str, Any] = {}
    for name, (start, end) in windows.items():
        inside = Q(taken_at__gte=start, taken_at__lt=end)
        aggregates[f"{name}_v"] = DecimalSum(billable.VOLUME, filter=inside)
        aggregates[f"{name}_n"] = Count("pk", filter=inside)
    rows = (
        billable.readings(low, high)
        .filter(meter__in=district_meters(district))
        .values("meter_id")
        .annotate(**aggregates)
        .order_by()
    )
    return {r["meter_id"]: {name: (r[f"{name}_v"] or ZERO, r[f"{name}_n"]) for name in windows} for r in rows}


def meter_facts(ids) -> dict[int, dict]:
    """What the suspects page shows of each meter: serial, status, address and the account
    billed at its premises (id, number, name), or None."""
    meters = list(Meter.objects.filter(pk__in=list(ids)).select_related("premises"))
    accounts = billing_customers(m.premises_id for m in meters)
    customers = Customer.objects.in_bulk(list(accounts.values()))
    out = {}
    for meter in meters:
        account = accounts.get(meter.premises_id) if meter.premises_id is not None else None
        customer = customers.get(account) if account is not None else None
        out[meter.pk] = {
            "serial_no": meter.serial_no,
            "status": meter.status,
            "address": meter.premises.address if meter.premises else "",
            "customer": customer,
        }
    return out
