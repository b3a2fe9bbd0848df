"""The dashboard's 12-month trend charts: each a figure of a registered report, run through the
report frame (`parse_params`, `scope`, `run`) exactly as its page runs it, so the chart and the
report cannot disagree, and a cashier's trend is scoped to their own collections as their report
is.

A `Trend` names its report and figure and how the twelve points come out of the report:
- `grouping="rows"`: one run over the twelve months, grouped by `group_by`; each row's `x` (a
  period, or a day folded into its month) adds its figure to that month (additive figures:
  volumes, money, counts);
- `grouping="months"`: one run per month, the point being the month's total figure (rates and
  percentages, which do not add up, and as-of reports such as arrears).
The params for a month follow the report's own period kind: YYYY-MM for month reports, the
month's first and last day for day reports, the month's last day (today for this month) for
as-of reports. A trend whose report is not registered, or not allowed to the user, is skipped;
so is one whose report fails (logged): the dashboard never breaks for a chart.

The landing page shows its tiles at once and fetches the charts after load (htmx), so the trends
cost the page nothing; the computed points are cached per user for a few minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gasworks.reports.framework import REPORTS, Report, month_bounds, parse_params, shift_period

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

log = logging.getLogger("gasworks.reports")

CACHE_SECONDS = 300
MANAGERS = ("admin", "manager")


@dataclass(frozen=True)
class Trend:
    key: str
    label: StrOrPromise
    report: str
    figure: str
    roles: tuple[str, ...]
    grouping: str = "rows"  # rows | months
    group_by: str = ""  # grouping "rows": the report's grouping whose rows carry `x`
    x: str = "period"  # grouping "rows": the row key holding the period or the day
    kind: str = "line"  # line | bar
    query: dict = field(default_factory=dict)  # fixed filters

    def __post_init__(self):
        if self.grouping not in ("rows", "months") or self.kind not in ("line", "bar"):
            raise ValueError(f"bad trend {self.key}")


TRENDS: list[Trend] = [
    Trend("sales-volume", _("Gas sold (m³)"), "sales", "volume", MANAGERS, group_by="period", kind="bar"),
    Trend(
        "collections",
        _("Collections"),
        "collections",
        "amount",
        MANAGERS,
        group_by="day",
        x="day",
        kind="bar",
    ),
    Trend(
        "my-collections",
        _("My collections"),
        "collections",
        "amount",
        ("cashier",),
        group_by="day",
        x="day",
        kind="bar",
    ),
    Trend("arrears", _("Arrears owed"), "arrears", "total", MANAGERS, grouping="months"),
    Trend("loss", _("Supply–sales loss %"), "supply-balance", "loss_pct", MANAGERS, grouping="months"),
    Trend(
        "coverage",
        _("Inspection coverage %"),
        "safety",
        "coverage_pct",
        (*MANAGERS, "inspector"),
        grouping="months",
    ),
    Trend(
        "inspections",
        _("Inspections done"),
        "safety",
        "inspections_done",
        ("inspector", "dispatcher"),
        grouping="months",
        kind="bar",
    ),
    Trend(
        "hazards",
        _("Hazards raised"),
        "safety",
        "hazards_raised",
        ("inspector", "dispatcher"),
        grouping="months",
        kind="bar",
    ),
    Trend("fills", _("Cylinders filled"), "lpg", "fills", ("filler",), grouping="months", kind="bar"),
    Trend(
        "readings",
        _("Reading completion %"),
        "reading",
        "completion_pct",
        ("meter_reader",),
        grouping="months",
    ),
]


def months_to(today: date, count: int = 12) -> list[str]:
    this = f"{today.year:04d}-{today.month:02d}"
    return [shift_period(this, offset) for offset in range(-(count - 1), 1)]


def _query(report: Report, first: str, last: str, today: date) -> dict[str, str]:
    """The report's query for the months first..last, in its own period kind."""
    if report.period == "month":
        return {"from": first, "to": last}
    if report.period == "day":
        end = min(month_bounds(last)[1], today)
        return {"from": month_bounds(first)[0].isoformat(), "to": end.isoformat()}
    if report.period == "as_of":
        return {"as_of": min(month_bounds(last)[1], today).isoformat()}
    return {}


def trends_for(user) -> list[Trend]:
    """The trends of the user's role whose report is registered and allowed to the user."""
    role = getattr(user, "effective_role", "")
    return [
        t
        for t in TRENDS
        if role in t.roles and (report := REPORTS.get(t.report)) is not None and report.allowed(user)
    ]


def points(trend: Trend, user, today: date) -> list[tuple[str, Decimal | None]]:
    """The twelve (month, figure) points of a trend for this user (None: no figure that month)."""
    report = REPORTS[trend.report]
    months = months_to(today)
    values: dict[str, Decimal | None] = dict.fromkeys(months)
    if trend.grouping == "rows":
        query = {**_query(report, months[0], months[-1], today), **trend.query}
        if trend.group_by:
            query["group_by"] = trend.group_by
        result = report.run(report.scope(user, parse_params(report, query, today)))
        for row in result.rows:
            month = str(row.get(trend.x) or "")[:7]
            figure = row.get(trend.figure)
            if month in values and figure is not None:
                values[month] = (values[month] or Decimal(0)) + Decimal(figure)
    else:
        for month in months:
            query = {**_query(report, month, month, today), **trend.query}
            result = report.run(report.scope(user, parse_params(report, query, today)))
            figure = (result.total or {}).get(trend.figure)
            values[month] = None if figure is None else Decimal(figure)
    return list(values.items())


def chart_for(trend: Trend, user, today: date) -> dict | None:
    """The trend's chart data for the trend script ({kind, x, series}), cached a few minutes per
    user (the user's scope decides the figures) and language."""
    key = f"trend:{trend.key}:{user.pk}:{today.isoformat()}:{translation.get_language()}"
    data = cache.get(key)
    if data is not None:
        return data
    try:
        pts = points(trend, user, today)
    except Exception:  # a chart must never break the dashboard; the report's page shows the error
        log.exception("trend %s failed", trend.key)
        return None
    data = {
        "kind": trend.kind,
        "x": [month for month, _value in pts],
        "series": [{"name": str(trend.label), "data": [None if v is None else float(v) for _m, v in pts]}],
    }
    cache.set(key, data, CACHE_SECONDS)
    return data


def charts_for(user, today: date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    out = []
    for trend in trends_for(user):
        data = chart_for(trend, user, today)
        if data is not None:
            out.append({"trend": trend, "data": data, "report": REPORTS[trend.report]})
    return out
