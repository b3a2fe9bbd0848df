"""The safety report's reads: figures per local day from the base tables (inspection tasks,
hazards) or from the rollup, and the live reads that no rollup needs (emergencies, overdue
hazards). Days are the station's local days; every range is an indexed range of timestamps
(`finished_at`, `raised_at`, `closed_at`, `reported_at`) or of `due_on`.

Coverage (premises inspected within their interval ÷ premises due): a premises falls due on the
day its routine task is due (the planner sets it to the last completed inspection, or the
account's opening, plus the category's interval `inspection_interval_<category>_months`); it is
covered when a completed visit of the premises (the routine task itself or its follow-up after
nobody was home) was recorded after that task was planned and on or before the due day.
Cancelled routine tasks are not due. One premises counts once per due day.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from gasworks.lib.dates import start_of_day
from gasworks.reports import rollups
from gasworks.reports.safety.models import SafetyClosureDay, SafetyHazardDay, SafetyInspectionDay
from gasworks.safety.models import (
    Emergency,
    EmergencyStatus,
    Hazard,
    HazardStatus,
    InspectionTask,
    TaskKind,
    TaskStatus,
)

ROLLUP = "safety"
DAY = datetime.timedelta(days=1)
# Every status but cancelled, spelled out so that the (status, due_on) index serves the range.
DUE_STATUSES = [s for s in TaskStatus.values if s != TaskStatus.CANCELLED]
INSPECTION_FIGURES = ("due", "covered", "done", "nobody_home", "follow_ups", "follow_ups_done")


def _local_day(name: str) -> TruncDate:
    return TruncDate(name, tzinfo=timezone.get_current_timezone())


def _span(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return start_of_day(first), start_of_day(last + DAY)


@dataclass
class Facts:
    """Figures per day: inspections[(day, district)] → Counter of INSPECTION_FIGURES;
    hazards[(day, district, level)] → Counter(raised, closed); closures[(day, district, level,
    days)] → how many hazards closed that day took that many days."""

    inspections: dict = field(default_factory=lambda: defaultdict(Counter))
    hazards: dict = field(default_factory=lambda: defaultdict(Counter))
    closures: Counter = field(default_factory=Counter)

    def keep(self, days: set) -> Facts:
        return Facts(
            defaultdict(Counter, {k: v for k, v in self.inspections.items() if k[0] in days}),
            defaultdict(Counter, {k: v for k, v in self.hazards.items() if k[0] in days}),
            Counter({k: v for k, v in self.closures.items() if k[0] in days}),
        )

    def add(self, other: Facts) -> None:
        for key, figures in other.inspections.items():
            self.inspections[key].update(figures)
        for key, figures in other.hazards.items():
            self.hazards[key].update(figures)
        self.closures.update(other.closures)


# ---------------------------------------------------------------- from the base tables


def _coverage(first: datetime.date, last: datetime.date, facts: Facts) -> None:
    routine = InspectionTask.objects.filter(
        kind=TaskKind.ROUTINE, status__in=DUE_STATUSES, due_on__gte=first, due_on__lte=last
    )
    due = list(
        routine.values("premises_id", "due_on").annotate(district=Max("district"), planned=Min("created_at"))
    )
    if not due:
        return
    earliest = min(row["planned"] for row in due)
    visits: dict[int, list] = defaultdict(list)
    completed = InspectionTask.objects.filter(
        status=TaskStatus.COMPLETED,
        finished_at__gte=earliest,
        finished_at__lt=start_of_day(last + DAY),
        premises_id__in=routine.values("premises_id"),
    ).values_list("premises_id", "finished_at")
    for premises_id, at in completed:
        visits[premises_id].append(at)
    for row in due:
        figures = facts.inspections[(row["due_on"], row["district"] or "")]
        figures["due"] += 1
        until = start_of_day(row["due_on"] + DAY)
        if any(row["planned"] <= at < until for at in visits[row["premises_id"]]):
            figures["covered"] += 1


def _visits(first: datetime.date, last: datetime.date, facts: Facts) -> None:
    low, high = _span(first, last)
    rows = (
        InspectionTask.objects.filter(
            finished_at__gte=low,
            finished_at__lt=high,
            status__in=[TaskStatus.COMPLETED, TaskStatus.NOBODY_HOME],
        )
        .annotate(day=_local_day("finished_at"))
        .values("day", "district", "status", "kind")
        .annotate(n=Count("pk", distinct=True), follow=Count("follow_ups", distinct=True))
    )
    for row in rows:
        figures = facts.inspections[(row["day"], row["district"] or "")]
        if row["status"] == TaskStatus.COMPLETED:
            figures["done"] += row["n"]
            if row["kind"] == TaskKind.FOLLOW_UP:
                figures["follow_ups_done"] += row["n"]
        else:
            figures["nobody_home"] += row["n"]
            figures["follow_ups"] += row["follow"]


def _hazards(first: datetime.date, last: datetime.date, facts: Facts) -> None:
    low, high = _span(first, last)
    district = "customer__premises__district"
    raised = (
        Hazard.objects.filter(raised_at__gte=low, raised_at__lt=high)
        .annotate(day=_local_day("raised_at"))
        .values("day", district, "level")
        .annotate(n=Count("pk"))
    )
    for row in raised:
        facts.hazards[(row["day"], row[district] or "", row["level"])]["raised"] += row["n"]
    closed = (
        Hazard.objects.filter(closed_at__gte=low, closed_at__lt=high)
        .annotate(day=_local_day("closed_at"), raised_day=_local_day("raised_at"))
        .values("day", "raised_day", district, "level")
        .annotate(n=Count("pk"))
    )
    for row in closed:
        key = (row["day"], row[district] or "", row["level"])
        facts.hazards[key]["closed"] += row["n"]
        facts.closures[(*key, max((row["day"] - row["raised_day"]).days, 0))] += row["n"]


def compute(first: datetime.date, last: datetime.date) -> Facts:
    """The figures of every day from first to last, from the base tables."""
    facts = Facts()
    _coverage(first, last, facts)
    _visits(first, last, facts)
    _hazards(first, last, facts)
    return facts


# ---------------------------------------------------------------- the rollup


def _merge(into: dict, key: tuple, figures: Counter) -> None:
    if key in into:
        into[key].update(figures)
    else:
        into[key] = figures


def _rollup_facts(first: datetime.date, last: datetime.date) -> Facts:
    """The rollup's rows as tuples, not model instances: a year of districts' days is thousands
    of rows, and building an instance of each was a third of the report's time."""
    facts = Facts()
    span = {"day__gte": first, "day__lte": last}
    for day, district, *values in SafetyInspectionDay.objects.filter(**span).values_list(
        "day", "district", *INSPECTION_FIGURES
    ):
        _merge(
            facts.inspections, (day, district), Counter(dict(zip(INSPECTION_FIGURES, values, strict=True)))
        )
    for day, district, level, raised, closed in SafetyHazardDay.objects.filter(**span).values_list(
        "day", "district", "level", "raised", "closed"
    ):
        _merge(facts.hazards, (day, district, level), Counter(raised=raised, closed=closed))
    for day, district, level, days, hazards in SafetyClosureDay.objects.filter(**span).values_list(
        "day", "district", "level", "days", "hazards"
    ):
        facts.closures[(day, district, level, days)] += hazards
    return facts


def facts(first: datetime.date, last: datetime.date) -> Facts:
    """The figures of the range: days touched since the last refresh (or all, before the first)
    from the base tables, every other day from the rollup."""
    live = rollups.keys_to_read_live(ROLLUP)
    days = {first + DAY * i for i in range((last - first).days + 1)}
    if live is None:
        return compute(first, last)
    live = {d for d in live if first <= d <= last}
    result = _rollup_facts(first, last).keep(days - live)
    if live:
        result.add(compute(min(live), max(live)).keep(live))
    return result


def rebuild(keys: list) -> None:
    """Rebuild these days: one computation per month of them (a range of each base table's
    index, set-based), not one per day; a full refresh of ten years of inspection history
    was 3,650 computations of a day."""
    for days in rollups.by_month(keys):
        _rebuild_days(days)


def _rebuild_days(wanted: set) -> None:
    SafetyInspectionDay.objects.filter(day__in=wanted).delete()
    SafetyHazardDay.objects.filter(day__in=wanted).delete()
    SafetyClosureDay.objects.filter(day__in=wanted).delete()
    fresh = compute(min(wanted), max(wanted)).keep(wanted)
    SafetyInspectionDay.objects.bulk_create(
        SafetyInspectionDay(day=d, district=district, **{k: figures[k] for k in INSPECTION_FIGURES})
        for (d, district), figures in fresh.inspections.items()
    )
    SafetyHazardDay.objects.bulk_create(
        SafetyHazardDay(day=d, district=district, level=level, raised=f["raised"], closed=f["closed"])
        for (d, district, level), f in fresh.hazards.items()
    )
    SafetyClosureDay.objects.bulk_create(
        SafetyClosureDay(day=d, district=district, level=level, days=days, hazards=n)
        for (d, district, level, days), n in fresh.closures.items()
    )


def touched(since: datetime.datetime) -> set:
    """Days whose figures rows recorded since `since` may have changed: the day a visit was
    finished, the due day of routine tasks planned, cancelled or finished since (and of the later
    due days of premises visited since), the days hazards were raised or closed."""
    days: set = set()
    finished = InspectionTask.objects.filter(finished_at__gte=since)
    days.update(finished.annotate(day=_local_day("finished_at")).values_list("day", flat=True).distinct())
    routine = InspectionTask.objects.filter(kind=TaskKind.ROUTINE)
    days.update(
        routine.filter(Q(created_at__gte=since) | Q(finished_at__gte=since))
        .values_list("due_on", flat=True)
        .distinct()
    )
    days.update(
        routine.filter(
            due_on__gte=timezone.localdate(since),
            premises_id__in=finished.filter(status=TaskStatus.COMPLETED).values("premises_id"),
        )
        .values_list("due_on", flat=True)
        .distinct()
    )
    for name in ("raised_at", "closed_at"):
        days.update(
            Hazard.objects.filter(**{f"{name}__gte": since})
            .annotate(day=_local_day(name))
            .values_list("day", flat=True)
            .distinct()
        )
    return days


def all_keys() -> set:
    days: set = set(
        InspectionTask.objects.filter(kind=TaskKind.ROUTINE).values_list("due_on", flat=True).distinct()
    )
    days.update(
        InspectionTask.objects.filter(finished_at__isnull=False)
        .annotate(day=_local_day("finished_at"))
        .values_list("day", flat=True)
        .distinct()
    )
    for name in ("raised_at", "closed_at"):
        days.update(
            Hazard.objects.filter(**{f"{name}__isnull": False})
            .annotate(day=_local_day(name))
            .values_list("day", flat=True)
            .distinct()
        )
    return days


rollups.register(rollups.Rollup(ROLLUP, touched=touched, rebuild=rebuild, all_keys=all_keys, chunk=366))


# ---------------------------------------------------------------- live: overdue hazards, emergencies


@dataclass(frozen=True)
class OpenHazard:
    district: str
    level: str
    deadline: datetime.date
    raised_at: datetime.datetime
    status: str
    rectified_at: datetime.datetime | None
    closed_at: datetime.datetime | None

    def overdue_on(self, day: datetime.date) -> bool:
        """Open past its deadline at the end of `day`: raised by then, not closed by then, and
        not waiting for our re-inspection (rectified by then and not reopened since)."""
        end = start_of_day(day + DAY)
        if self.raised_at >= end or self.deadline >= day:
            return False
        if self.closed_at is not None and self.closed_at < end:
            return False
        waiting = self.rectified_at is not None and self.rectified_at < end
        return not waiting or self.status == HazardStatus.OPEN


def open_hazards(first: datetime.date, last: datetime.date, district: str = "", level: str = "") -> list:
    """Hazards that may be overdue on some day from first to last: deadline before `last`, not
    closed before the end of `first` (uses the (status, deadline) and closed_at indexes)."""
    rows = Hazard.objects.filter(deadline__lt=last, raised_at__lt=start_of_day(last + DAY)).filter(
        Q(status__in=[HazardStatus.OPEN, HazardStatus.RECTIFIED])
        | Q(closed_at__gte=start_of_day(first + DAY))
    )
    if district:
        rows = rows.filter(customer__premises__district=district)
    if level:
        rows = rows.filter(level=level)
    return [
        OpenHazard(place or "", level, deadline, raised_at, status, rectified_at, closed_at)
        for place, level, deadline, raised_at, status, rectified_at, closed_at in rows.values_list(
            "customer__premises__district",
            "level",
            "deadline",
            "raised_at",
            "status",
            "rectified_at",
            "closed_at",
        )
    ]


@dataclass(frozen=True)
class Call:
    """An emergency as the report needs it; minutes are None when the step has not happened (and
    for a cancelled call, which is not a response)."""

    day: datetime.date
    district: str
    priority: str
    crew: str
    dispatch_minutes: Decimal | None
    arrival_minutes: Decimal | None


def _minutes(earlier, later) -> Decimal | None:
    if later is None:
        return None
    return Decimal((later - earlier) // datetime.timedelta(microseconds=1)) / Decimal(60_000_000)


def calls(first: datetime.date, last: datetime.date, district: str = "", crew: str = "", priority: str = ""):
    low, high = _span(first, last)
    rows = Emergency.objects.filter(reported_at__gte=low, reported_at__lt=high)
    if district:
        rows = rows.filter(customer__premises__district=district)
    if crew:
        rows = rows.filter(crew__name=crew)
    if priority:
        rows = rows.filter(priority=priority)
    out = []
    values = rows.values_list(
        "reported_at",
        "dispatched_at",
        "arrived_at",
        "status",
        "priority",
        "crew__name",
        "customer__premises__district",
    )
    for reported, dispatched, arrived, status, prio, crew_name, place in values:
        cancelled = status == EmergencyStatus.CANCELLED
        out.append(
            Call(
                timezone.localdate(reported),
                place or "",
                prio,
                crew_name or "",
                None if cancelled else _minutes(reported, dispatched),
                None if cancelled else _minutes(reported, arrived),
            )
        )
    return out
