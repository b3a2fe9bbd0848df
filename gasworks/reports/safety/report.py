"""The safety report: inspection coverage, nobody-home visits and their follow-ups, hazards raised
and closed by level with closure times, overdue hazards, emergencies with dispatch and arrival
times, over a range of local days, by month, district, level, crew or priority."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gasworks.lib.money import round_money
from gasworks.reports.framework import Chart, Column, Params, Report, Result, pct
from gasworks.reports.safety import store
from gasworks.reports.safety.percentiles import percentile, percentile_of_counts
from gasworks.safety.models import Crew, HazardLevel, Priority

# Which figures a grouping or a filter speaks about: rows get those, the others stay empty.
INSPECTIONS, HAZARDS, EMERGENCIES = "inspections", "hazards", "emergencies"
SECTIONS_BY_GROUP = {
    "month": {INSPECTIONS, HAZARDS, EMERGENCIES},
    "district": {INSPECTIONS, HAZARDS, EMERGENCIES},
    "level": {HAZARDS},
    "crew": {EMERGENCIES},
    "priority": {EMERGENCIES},
}
SECTIONS_BY_FILTER = {
    "district": {INSPECTIONS, HAZARDS, EMERGENCIES},
    "level": {HAZARDS},
    "crew": {EMERGENCIES},
    "priority": {EMERGENCIES},
}
HALF, NINE_TENTHS = Decimal("0.5"), Decimal("0.9")


def _mean(values: list[Decimal]) -> Decimal | None:
    return round_money(sum(values, Decimal(0)) / len(values)) if values else None


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else round_money(value)


def _month(day: datetime.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_end(key: str) -> datetime.date:
    year, month = int(key[:4]), int(key[5:7])
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - datetime.timedelta(days=1)


class SafetyReport(Report):
    name = "safety"
    title = _("Safety")
    description = _(
        "Coverage: premises inspected within their interval ÷ premises due. A premises falls due "
        "when its routine inspection is due (the last inspection, or the account's opening, plus "
        "its category's interval) and counts as covered when a visit of it was completed after "
        "the task was planned and no later than the due day. Nobody-home rate: nobody-home "
        "visits ÷ all visits. Closure days: whole days from raised to closed. Overdue: hazards "
        "open past their deadline at the end of the range (or of the month). Dispatch and "
        "arrival minutes count from the report of the emergency."
    )
    permission = "reports.view_safety_report"
    period = "day"
    group_by = ("month", "district", "level", "crew", "priority")
    group_labels = {
        "month": _("Month"),
        "district": _("District"),
        "level": _("Hazard level"),
        "crew": _("Crew"),
        "priority": _("Priority"),
    }
    filters = ("district", "crew", "priority", "level")

    def default_params(self, today: datetime.date) -> Params:
        """The last twelve months, by month: the trend of coverage, hazards and response times."""
        year_ago = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        for _month_back in range(10):
            year_ago = (year_ago - datetime.timedelta(days=1)).replace(day=1)
        return Params(start=year_ago, end=today, group_by=self.default_group())

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "level":
            return [(code, str(label)) for code, label in HazardLevel.choices]
        if name == "priority":
            return [(code, str(label)) for code, label in Priority.choices]
        if name == "crew":
            return [(n, n) for n in Crew.objects.order_by("name").values_list("name", flat=True)]
        return []

    def columns(self, group: str) -> list[Column]:
        keys: dict[str, Column] = {
            "month": Column("month", _("Month"), "period"),
            "district": Column("district", _("District"), "text"),
            "level": Column("level", _("Hazard level"), "code", dict(HazardLevel.choices)),
            "crew": Column("crew", _("Crew"), "text"),
            "priority": Column("priority", _("Priority"), "code", dict(Priority.choices)),
        }
        return [
            keys[group],
            Column("inspections_due", _("Premises due"), "count"),
            Column("inspections_covered", _("Inspected in time"), "count"),
            Column("coverage_pct", _("Coverage %"), "percent"),
            Column("inspections_done", _("Inspections done"), "count"),
            Column("nobody_home", _("Nobody home"), "count"),
            Column("nobody_home_pct", _("Nobody home %"), "percent"),
            Column("follow_ups", _("Follow-ups planned"), "count"),
            Column("follow_ups_done", _("Follow-ups done"), "count"),
            Column("hazards_raised", _("Hazards raised"), "count"),
            Column("hazards_closed", _("Hazards closed"), "count"),
            Column("closure_days_p50", _("Closure days p50"), "number"),
            Column("closure_days_p90", _("Closure days p90"), "number"),
            Column("hazards_overdue", _("Overdue hazards"), "count"),
            Column("emergencies", _("Emergencies"), "count"),
            Column("dispatch_minutes_mean", _("Dispatch min, mean"), "number"),
            Column("dispatch_minutes_p90", _("Dispatch min, p90"), "number"),
            Column("arrival_minutes_mean", _("Arrival min, mean"), "number"),
            Column("arrival_minutes_p90", _("Arrival min, p90"), "number"),
        ]

    # ------------------------------------------------------------ figures

    @staticmethod
    def _inspection_figures(c: Counter) -> dict:
        visits = c["done"] + c["nobody_home"]
        return {
            "inspections_due": c["due"],
            "inspections_covered": c["covered"],
            "coverage_pct": pct(c["covered"], c["due"]),
            "inspections_done": c["done"],
            "nobody_home": c["nobody_home"],
            "nobody_home_pct": pct(c["nobody_home"], visits),
            "follow_ups": c["follow_ups"],
            "follow_ups_done": c["follow_ups_done"],
        }

    @staticmethod
    def _hazard_figures(c: Counter, closures: Counter, overdue: int) -> dict:
        return {
            "hazards_raised": c["raised"],
            "hazards_closed": c["closed"],
            "closure_days_p50": _round(percentile_of_counts(closures, HALF)),
            "closure_days_p90": _round(percentile_of_counts(closures, NINE_TENTHS)),
            "hazards_overdue": overdue,
        }

    @staticmethod
    def _emergency_figures(calls: list[store.Call]) -> dict:
        dispatch = [c.dispatch_minutes for c in calls if c.dispatch_minutes is not None]
        arrival = [c.arrival_minutes for c in calls if c.arrival_minutes is not None]
        return {
            "emergencies": len(calls),
            "dispatch_minutes_mean": _mean(dispatch),
            "dispatch_minutes_p90": _round(percentile(dispatch, NINE_TENTHS)),
            "arrival_minutes_mean": _mean(arrival),
            "arrival_minutes_p90": _round(percentile(arrival, NINE_TENTHS)),
        }

    def run(self, params: Params) -> Result:
        assert params.start and params.end
        first, last = params.start, params.end
        group = params.group_by
        district, level = params.get("district"), params.get("level")
        crew, priority = params.get("crew"), params.get("priority")
        sections = {INSPECTIONS, HAZARDS, EMERGENCIES}
        for name in self.filters:
            if params.get(name):
                sections &= SECTIONS_BY_FILTER[name]
        shown = sections & SECTIONS_BY_GROUP[group]
        as_of = min(last, timezone.localdate())

        def key_of(day=None, place="", lvl="", crew_name="", prio=""):
            return {
                "month": _month(day) if day else "",
                "district": place,
                "level": lvl,
                "crew": crew_name,
                "priority": prio,
            }[group]

        keys: dict = {}
        if group == "month":
            cursor = first.replace(day=1)
            while cursor <= last:
                keys[_month(cursor)] = None
                cursor = _month_end(_month(cursor)) + datetime.timedelta(days=1)
        elif group == "level":
            keys = dict.fromkeys(HazardLevel.values)
        elif group == "priority":
            keys = dict.fromkeys(Priority.values)

        inspections: dict = defaultdict(Counter)
        hazards: dict = defaultdict(Counter)
        closures: dict = defaultdict(Counter)
        overdue: Counter = Counter()
        all_insp: Counter = Counter()
        all_haz: Counter = Counter()
        all_closures: Counter = Counter()
        total_overdue = 0
        if INSPECTIONS in sections or HAZARDS in sections:
            facts = store.facts(first, last)
            if INSPECTIONS in sections:
                for (day, place), figures in facts.inspections.items():
                    if district and place != district:
                        continue
                    all_insp.update(figures)
                    if INSPECTIONS in shown:
                        inspections[key_of(day=day, place=place)].update(figures)
            if HAZARDS in sections:
                for (day, place, lvl), figures in facts.hazards.items():
                    if (district and place != district) or (level and lvl != level):
                        continue
                    all_haz.update(figures)
                    if HAZARDS in shown:
                        hazards[key_of(day=day, place=place, lvl=lvl)].update(figures)
                for (day, place, lvl, days), n in facts.closures.items():
                    if (district and place != district) or (level and lvl != level):
                        continue
                    all_closures[days] += n
                    if HAZARDS in shown:
                        closures[key_of(day=day, place=place, lvl=lvl)][days] += n
        if HAZARDS in sections:
            month_ends = {k: min(_month_end(k), as_of) for k in keys} if group == "month" else {}
            earliest = min(month_ends.values(), default=as_of)
            for hazard in store.open_hazards(earliest, as_of, district, level):
                total_overdue += hazard.overdue_on(as_of)
                if HAZARDS not in shown:
                    continue
                if group == "month":
                    for key, end in month_ends.items():
                        overdue[key] += hazard.overdue_on(end)
                elif hazard.overdue_on(as_of):
                    overdue[key_of(place=hazard.district, lvl=hazard.level)] += 1
        calls: dict = defaultdict(list)
        all_calls: list = []
        if EMERGENCIES in sections:
            all_calls = store.calls(first, last, district, crew, priority)
            if EMERGENCIES in shown:
                for call in all_calls:
                    calls[
                        key_of(day=call.day, place=call.district, crew_name=call.crew, prio=call.priority)
                    ].append(call)

        for mapping in (inspections, hazards, closures, overdue, calls):
            for key in mapping:
                keys.setdefault(key, None)
        rows = []
        for key in keys if group in ("month", "level", "priority") else sorted(keys):
            row: dict = {group: key}
            if INSPECTIONS in shown:
                row.update(self._inspection_figures(inspections.get(key, Counter())))
            if HAZARDS in shown:
                row.update(
                    self._hazard_figures(
                        hazards.get(key, Counter()), closures.get(key, Counter()), overdue[key]
                    )
                )
            if EMERGENCIES in shown:
                row.update(self._emergency_figures(calls.get(key, [])))
            rows.append(row)
        total: dict = {}
        if INSPECTIONS in sections:
            total.update(self._inspection_figures(all_insp))
        if HAZARDS in sections:
            total.update(self._hazard_figures(all_haz, all_closures, total_overdue))
        if EMERGENCIES in sections:
            total.update(self._emergency_figures(all_calls))
        return Result(self.columns(group), rows, total, self.chart(group, shown))

    @staticmethod
    def chart(group: str, shown: set) -> Chart | None:
        if group == "month":
            series = []
            if INSPECTIONS in shown:
                series.append("coverage_pct")
            if HAZARDS in shown:
                series += ["hazards_raised", "hazards_closed"]
            if EMERGENCIES in shown:
                series += ["dispatch_minutes_mean", "arrival_minutes_mean", "arrival_minutes_p90"]
            return Chart("line", "month", tuple(series)) if series else None
        if group == "level":
            return Chart("bar", "level", ("hazards_raised", "hazards_closed", "hazards_overdue"))
        if group in ("crew", "priority"):
            return Chart(
                "bar", group, ("dispatch_minutes_mean", "arrival_minutes_mean", "arrival_minutes_p90")
            )
        if group == "district" and INSPECTIONS in shown:
            return Chart("bar", "district", ("coverage_pct", "nobody_home_pct"))
        return None

    # ------------------------------------------------------------ drill-down

    def drill(self, params: Params, row: dict) -> str:
        assert params.start and params.end
        group = params.group_by
        first, last = params.start, params.end
        if group == "month":
            month_first = datetime.date(int(row["month"][:4]), int(row["month"][5:7]), 1)
            first, last = max(first, month_first), min(last, _month_end(row["month"]))
        span = {"from": first.isoformat(), "to": last.isoformat()}
        district = row.get("district", params.get("district"))
        if group in ("crew", "priority"):
            query = {
                **span,
                "crew": row.get("crew", params.get("crew")),
                "priority": row.get("priority", params.get("priority")),
            }
            return reverse("safety:emergency-board") + "?" + urlencode({k: v for k, v in query.items() if v})
        if group == "level":
            query = {**span, "status": "all", "level": row["level"], "district": params.get("district")}
            return reverse("safety:hazard-list") + "?" + urlencode({k: v for k, v in query.items() if v})
        query = {**span, "scope": "all", "district": district}
        return reverse("safety:inspection-list") + "?" + urlencode({k: v for k, v in query.items() if v})
