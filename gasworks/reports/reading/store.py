"""Every read of the meter reading report: the rows its rollups are rebuilt from (the same
function gives the live rows of a day not yet rolled up), which keys changed since a time, the
rollup sums, and the meter lists. ORM throughout (the same SQL on SQLite and PostgreSQL).

Attribution is *current*: a reading counts for the route its meter is on now (the lowest route
id when a meter is on several), that route's reader now, and its premises' district now. A
change of routes or of a premises' district therefore touches every key (`attribution_changed`),
so rollup and live answers never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from gasworks.lib.dates import start_of_day
from gasworks.lib.db import DecimalSum, insert_select
from gasworks.metering import billable
from gasworks.metering.models import (
    NO_USE,
    Meter,
    MeterStatus,
    Reading,
    ReadingRoute,
    ReadingStatus,
    RouteStop,
    TamperAlert,
)
from gasworks.reports.reading.models import MeterLastRead, ReadingDay, ReadingMeterDay
from gasworks.system.models import AuditEntry

# A real reading: someone (or the device) read the register. An estimate is not a reading, and a
# rejected value has to be read again.
REAL = tuple(str(s) for s in ReadingStatus if s not in (ReadingStatus.ESTIMATED, ReadingStatus.REJECTED))
ALL_STATUSES = tuple(str(s) for s in ReadingStatus)
# Readings that carry VEE flags: stored flagged, and kept with their flags when a person decides.
WITH_FLAGS = (str(ReadingStatus.FLAGGED), str(ReadingStatus.APPROVED), str(ReadingStatus.REJECTED))
DIMS = ("route_id", "reader_id", "district")
REVIEWS = ("approve", "correct", "reject")


def tz():
    return timezone.get_default_timezone()


def day_start(day: dt.date) -> dt.datetime:
    return start_of_day(day, tz())


def month_first(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_last(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


# ---------------------------------------------------------------- attribution


def _route(meter_ref: str):
    stops = RouteStop.objects.filter(meter_id=OuterRef(meter_ref)).order_by("route_id")
    return Coalesce(Subquery(stops.values("route_id")[:1]), Value(0), output_field=IntegerField())


def _reader(meter_ref: str):
    stops = RouteStop.objects.filter(meter_id=OuterRef(meter_ref)).order_by("route_id")
    return Coalesce(Subquery(stops.values("route__reader_id")[:1]), Value(0), output_field=IntegerField())


def _attributed(qs, meter_ref: str, district_path: str):
    return qs.annotate(route_id_=_route(meter_ref), reader_id_=_reader(meter_ref), district_=F(district_path))


def _routed(qs, meter_ref: str, district_path: str):
    """The cheap attribution of the rollup rows: one index lookup per row for the route; the
    route's reader is looked up once per query in Python (`route_readers`)."""
    return qs.annotate(route_id_=_route(meter_ref), district_=F(district_path))


def route_readers() -> dict[int, int]:
    return {pk: reader or 0 for pk, reader in ReadingRoute.objects.values_list("pk", "reader_id")}


def _dims(row: dict, readers: dict[int, int]) -> tuple:
    return (row["route_id_"], readers.get(row["route_id_"], 0), row["district_"] or "")


def meters_on(route_id: int = 0, reader_id: int = 0, district: str = ""):
    """Meters attributed to a route / a reader / a district (0 or "" = no filter; route 0 means
    on no route only when asked for explicitly with `route_id=-1`)."""
    meters = Meter.objects.all()
    # Narrow by an index first (the route's stops, the district), then check the attribution.
    if route_id > 0:
        meters = meters.filter(pk__in=RouteStop.objects.filter(route_id=route_id).values("meter_id"))
    if reader_id > 0:
        meters = meters.filter(pk__in=RouteStop.objects.filter(route__reader_id=reader_id).values("meter_id"))
    if district and district != "-":
        meters = meters.filter(premises__district=district)
    meters = _attributed(meters, "pk", "premises__district")
    if route_id:
        meters = meters.filter(route_id_=0 if route_id < 0 else route_id)
    if reader_id:
        meters = meters.filter(reader_id_=0 if reader_id < 0 else reader_id)
    if district:
        meters = meters.filter(district_="" if district == "-" else district)
    return meters


# ---------------------------------------------------------------- rows (rollup and live)


def reading_day_rows(day: dt.date) -> list[dict]:
    """A local day's ReadingDay rows, from the base tables."""
    lo, hi = day_start(day), day_start(day + dt.timedelta(days=1))
    first, last = month_first(day), month_last(day)
    # status__in every status: lets the (status, taken_at) index serve the day range.
    base = Reading.objects.filter(taken_at__gte=lo, taken_at__lt=hi, status__in=ALL_STATUSES)
    # Bounded by the day's end as well (implied by the outer reading's time): on PostgreSQL the
    # planner then reads only the month's partition of readings.
    earlier = Reading.objects.filter(
        meter_id=OuterRef("meter_id"),
        taken_at__gte=day_start(first),
        taken_at__lt=OuterRef("taken_at"),
        status__in=REAL,
    ).filter(taken_at__lt=hi)
    readers = route_readers()
    # The meter's removal date, kept only when it falls in the day's month (a join, not a lookup).
    removed = Case(
        When(meter__removed_on__range=(first, last), then=F("meter__removed_on")),
        default=Value(None),
        output_field=DateField(),
    )
    counted = (
        _routed(base, "meter_id", "meter__premises__district")
        .annotate(removed_=removed, is_first=Q(status__in=REAL) & ~Exists(earlier))
        .values("route_id_", "district_", "status", "removed_", "is_first")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows: dict[tuple, dict] = {}
    for r in counted:
        key = (*_dims(r, readers), r["status"], "", r["removed_"])
        row = rows.setdefault(key, _row(day, key))
        row["readings"] += r["n"]
        row["first_reads"] += r["n"] if r["is_first"] else 0
    flagged = (
        _routed(base.filter(status__in=WITH_FLAGS), "meter_id", "meter__premises__district")
        .annotate(removed_=removed)
        .values("route_id_", "district_", "status", "removed_", "flags")
    )
    for r in flagged:
        codes = list(dict.fromkeys(r["flags"] or ()))
        if not codes:
            continue
        dims = (*_dims(r, readers), r["status"])
        rows[(*dims, "", r["removed_"])]["flagged"] += 1
        for code in codes:
            key = (*dims, code, None)
            rows.setdefault(key, _row(day, key))["readings"] += 1
    for field, opened in (("raised_at", "alerts_opened"), ("closed_at", "alerts_closed")):
        alerts = (
            _routed(
                TamperAlert.objects.filter(**{f"{field}__gte": lo, f"{field}__lt": hi}),
                "meter_id",
                "meter__premises__district",
            )
            .values("route_id_", "district_")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in alerts:
            key = (*_dims(r, readers), "", "", None)
            rows.setdefault(key, _row(day, key))[opened] += r["n"]
    return list(rows.values())


def _row(day, key) -> dict:
    route_id, reader_id, district, status, rule, removed = key
    return {
        "day": day,
        "route_id": route_id,
        "reader_id": reader_id,
        "district": district,
        "status": status,
        "rule": rule,
        "removed_on": removed,
        "readings": 0,
        "flagged": 0,
        "first_reads": 0,
        "alerts_opened": 0,
        "alerts_closed": 0,
    }


def meter_day_rows(days: Iterable[dt.date] | None = None) -> list[dict]:
    """ReadingMeterDay rows of these days (None: every day), from the meters table."""
    rows: dict[tuple, dict] = {}
    readers = route_readers()
    wanted = None if days is None else list(days)
    for field, figure in (("installed_on", "installed"), ("removed_on", "removed")):
        meters = Meter.objects.filter(**{f"{field}__isnull": False})
        if wanted is not None:
            meters = meters.filter(**{f"{field}__in": wanted})
        counted = (
            _routed(meters, "pk", "premises__district")
            .values(field, "route_id_", "district_")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in counted:
            key = (r[field], *_dims(r, readers))
            row = rows.setdefault(
                key,
                {
                    "day": key[0],
                    "route_id": key[1],
                    "reader_id": key[2],
                    "district": key[3],
                    "installed": 0,
                    "removed": 0,
                },
            )
            row[figure] += r["n"]
    return list(rows.values())


def last_read_rows(meter_ids: Iterable[int] | None) -> list[MeterLastRead]:
    """MeterLastRead rows of these meters (None: every meter)."""
    newest = Reading.objects.filter(meter_id=OuterRef("pk"), status__in=REAL).order_by("-taken_at")
    meters = Meter.objects.all() if meter_ids is None else Meter.objects.filter(pk__in=list(meter_ids))
    meters = meters.annotate(last=Subquery(newest.values("taken_at")[:1]))
    return [
        MeterLastRead(
            meter_id=pk, active=status == MeterStatus.INSTALLED, quiet_since=last or day_start(installed_on)
        )
        for pk, status, installed_on, last in meters.values_list("pk", "status", "installed_on", "last")
    ]


# ---------------------------------------------------------------- rebuild


def rebuild_reading_days(days: list[dt.date]) -> None:
    ReadingDay.objects.filter(day__in=days).delete()
    ReadingDay.objects.bulk_create([ReadingDay(**row) for day in days for row in reading_day_rows(day)])


def rebuild_meter_days(days: list[dt.date]) -> None:
    ReadingMeterDay.objects.filter(day__in=days).delete()
    ReadingMeterDay.objects.bulk_create([ReadingMeterDay(**row) for row in meter_day_rows(days)])


def rebuild_last_reads(meter_ids: list[int]) -> None:
    MeterLastRead.objects.filter(meter_id__in=meter_ids).delete()
    MeterLastRead.objects.bulk_create(last_read_rows(meter_ids))


def rebuild_all_last_reads() -> int:
    """Every meter's row at once (a full refresh): one grouped INSERT ... SELECT over the
    readings (a hash aggregate, where the per-meter path looks each meter's newest reading up
    by the index, a million lookups at a city's size), then the few meters with no real
    reading from their install day, in Python (a local day's start is Python's to compute)."""
    MeterLastRead.objects.all().delete()
    newest = (
        Meter.objects.annotate(
            active_=ExpressionWrapper(Q(status=MeterStatus.INSTALLED), output_field=BooleanField()),
            last=Max("readings__taken_at", filter=Q(readings__status__in=REAL)),
        )
        .filter(last__isnull=False)
        .order_by()
        .values_list("pk", "active_", "last")
    )
    insert_select(MeterLastRead, ["meter_id", "active", "quiet_since"], newest)
    unread = Meter.objects.exclude(pk__in=MeterLastRead.objects.values("meter_id")).values_list(
        "pk", flat=True
    )
    ids = list(unread)
    for start in range(0, len(ids), 5000):
        MeterLastRead.objects.bulk_create(last_read_rows(ids[start : start + 5000]))
    return MeterLastRead.objects.count()


def _local_days(qs, field: str) -> set[dt.date]:
    return set(qs.annotate(d=TruncDate(field, tzinfo=tz())).values_list("d", flat=True).distinct().order_by())


def all_reading_days() -> set[dt.date]:
    days = _local_days(Reading.objects.all(), "taken_at")
    days |= _local_days(TamperAlert.objects.all(), "raised_at")
    days |= _local_days(TamperAlert.objects.filter(closed_at__isnull=False), "closed_at")
    return days


def all_meter_days() -> set[dt.date]:
    days = set(Meter.objects.values_list("installed_on", flat=True).distinct().order_by())
    removed = Meter.objects.filter(removed_on__isnull=False).values_list("removed_on", flat=True)
    return days | {day for day in removed.distinct().order_by() if day is not None}


def all_meter_ids() -> list[int]:
    return list(Meter.objects.order_by("pk").values_list("pk", flat=True))


# ---------------------------------------------------------------- touched (by recorded time)


def _audited(since: dt.datetime, model: str, actions: Iterable[str] | None = None):
    entries = AuditEntry.objects.filter(at__gte=since, model=model)
    if actions is not None:
        entries = entries.filter(action__in=list(actions))
    return [int(pk) for pk in entries.values_list("object_id", flat=True) if str(pk).isdigit()]


def attribution_changed(since: dt.datetime) -> bool:
    """A route was made or changed (stops, reader) or a premises moved district since."""
    if AuditEntry.objects.filter(at__gte=since, model="metering.ReadingRoute").exists():
        return True
    moved = AuditEntry.objects.filter(at__gte=since, model="customers.Premises", action="update")
    return any("district" in (before or {}) for before in moved.values_list("before", flat=True))


def reviewed_readings(since: dt.datetime) -> list[int]:
    """Readings approved, corrected or rejected since: the review writes its audit entry (with
    its time) in the same transaction as the new status."""
    return _audited(since, "metering.Reading", REVIEWS)


def meters_installed_or_removed(since: dt.datetime) -> list[int]:
    return _audited(since, "metering.Meter", ("install", "remove"))


def touched_reading_days(since: dt.datetime) -> set[dt.date]:
    if attribution_changed(since):
        return all_reading_days()
    changed = _local_days(Reading.objects.filter(created_at__gte=since), "taken_at")
    changed |= _local_days(Reading.objects.filter(pk__in=reviewed_readings(since)), "taken_at")
    days: set[dt.date] = set()
    for day in changed:
        # A reading on day d may become (or stop being) its meter's first of the month, which
        # moves the first read of a later day of the same month.
        days.update(days_between(day, month_last(day)))
    days |= _local_days(TamperAlert.objects.filter(raised_at__gte=since), "raised_at")
    days |= _local_days(TamperAlert.objects.filter(closed_at__gte=since), "closed_at")
    removed = Meter.objects.filter(pk__in=meters_installed_or_removed(since), removed_on__isnull=False)
    for on in removed.values_list("removed_on", flat=True):
        if on is not None:
            days.update(days_between(month_first(on), month_last(on)))
    return days


def touched_meter_days(since: dt.datetime) -> set[dt.date]:
    if attribution_changed(since):
        return all_meter_days()
    days: set[dt.date] = set()
    for installed, removed in Meter.objects.filter(pk__in=meters_installed_or_removed(since)).values_list(
        "installed_on", "removed_on"
    ):
        days.add(installed)
        if removed:
            days.add(removed)
    return days


def touched_meters(since: dt.datetime) -> set[int]:
    ids = set(
        Reading.objects.filter(created_at__gte=since).values_list("meter_id", flat=True).distinct().order_by()
    )
    ids |= set(Reading.objects.filter(pk__in=reviewed_readings(since)).values_list("meter_id", flat=True))
    return ids | set(meters_installed_or_removed(since))


# ---------------------------------------------------------------- rollup sums


def rollup_sums(model, group: str, measures: dict, where: Q, skip_days: Iterable[dt.date]) -> dict:
    """{group value: {measure: sum}} over the rollup rows matching `where`, leaving out the days
    that are read live. `measures`: name → (column, Q)."""
    rows = model.objects.filter(where).exclude(day__in=list(skip_days))
    values = rows.values(group) if group else rows
    # Prefixed: an annotation may not share a name with a column (readings, flagged, ...).
    annotations = {
        f"s_{name}": Coalesce(Sum(column, filter=q), Value(0)) for name, (column, q) in measures.items()
    }
    if group:
        found = values.annotate(**annotations).order_by()
        return {r[group]: {name: r[f"s_{name}"] for name in measures} for r in found}
    total = rows.aggregate(**annotations)
    return {"": {name: total[f"s_{name}"] for name in measures}}


# ---------------------------------------------------------------- lists


def real_readings(meter_ids: list[int], lo: dt.datetime, hi: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(meter, taken_at) of the real readings of these meters in [lo, hi)."""
    return list(
        Reading.objects.filter(meter_id__in=meter_ids, taken_at__gte=lo, taken_at__lt=hi, status__in=REAL)
        .order_by()
        .values_list("meter_id", "taken_at")
    )


def meters_active(first: dt.date, last: dt.date, route_id=0, reader_id=0, district="") -> list[dict]:
    """Meters active some time in [first, last] with their attribution and install/removal."""
    meters = (
        meters_on(route_id, reader_id, district).filter(installed_on__lte=last).exclude(removed_on__lt=first)
    )
    return list(
        meters.values("pk", "serial_no", "installed_on", "removed_on", "route_id_", "reader_id_", "district_")
    )


def quiet_meters(cutoff: dt.datetime, skip: set[int]) -> list[int]:
    """Active meters whose rolled-up quiet_since is before the cutoff (the rollup's index)."""
    ids = MeterLastRead.objects.filter(active=True, quiet_since__lt=cutoff).values_list("meter_id", flat=True)
    return [pk for pk in ids if pk not in skip]


def meters_described(ids: list[int]) -> dict[int, dict]:
    meters = _attributed(Meter.objects.filter(pk__in=ids), "pk", "premises__district")
    return {
        r["pk"]: r
        for r in meters.values(
            "pk", "serial_no", "installed_on", "status", "route_id_", "reader_id_", "district_"
        )
    }


def zero_use(lo: dt.datetime, hi: dt.datetime) -> list[tuple[int, int]]:
    """(meter, readings) of active meters whose billable readings in [lo, hi) sum to 0: only
    meters with a reading that adds no gas can (the partial index reading_no_use_idx finds
    them), and only theirs are summed, by the (meter, taken_at) index; summing every meter's
    year of readings took seconds at a city's size."""
    base = billable.readings(lo, hi).filter(meter__status=MeterStatus.INSTALLED)
    candidates = (
        Reading.objects.filter(NO_USE, taken_at__gte=lo, taken_at__lt=hi)
        .order_by()
        .values("meter_id")
        .distinct()
    )
    summed = (
        base.filter(meter_id__in=candidates)
        .values("meter_id")
        .annotate(n=Count("pk"), volume=DecimalSum(billable.VOLUME))
        # An integer 0, not a Decimal: SQLite gets Decimals as text, and a sum is never equal to text.
        .filter(volume=Value(0, output_field=IntegerField()))
        .order_by()
    )
    return [(r["meter_id"], r["n"]) for r in summed]


def flagged_readings(lo: dt.datetime, hi: dt.datetime, meter_filter: dict) -> list[dict]:
    readings = Reading.objects.filter(taken_at__gte=lo, taken_at__lt=hi, status__in=WITH_FLAGS)
    readings = _attributed(readings, "meter_id", "meter__premises__district")
    for key, value in meter_filter.items():
        readings = readings.filter(**{key: value})
    return list(
        readings.order_by("taken_at", "pk").values(
            "pk",
            "meter_id",
            "meter__serial_no",
            "taken_at",
            "status",
            "flags",
            "route_id_",
            "reader_id_",
            "district_",
        )
    )


def newest_real(ids: list[int]) -> dict[int, dt.datetime]:
    newest = Reading.objects.filter(meter_id=OuterRef("pk"), status__in=REAL).order_by("-taken_at")
    return {
        pk: last
        for pk, last in Meter.objects.filter(pk__in=ids)
        .annotate(last=Subquery(newest.values("taken_at")[:1]))
        .values_list("pk", "last")
        if last is not None
    }


def group_of(rows: list[dict]) -> defaultdict:
    out: defaultdict = defaultdict(list)
    for row in rows:
        out[row["meter_id"]].append(row)
    return out
