"""What a report is, and the one way every page, API answer, export and print view reads it.

A report is a `Report` subclass registered in `REPORTS`: it names its permission, its filters and
its groupings, and `run(params)` returns a `Result` (columns, rows, totals, an optional chart).
The page (`views.report_page`), the API (`api.ReportView`), the exports (`export.py`) and the print
view all render that same `Result`, so they cannot disagree. Group keys hold codes (`residential`,
`cash`, `2026-01`), never translated labels: a `Column` with `choices` turns a code into its
label only when shown to a person (page, print, Excel), never in JSON or CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import PlausibleDate

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# How a figure is shown and exported: money to the fen, volumes to the litre (m³, 3 places).
KINDS = ("text", "code", "period", "day", "money", "volume", "kg", "count", "percent", "number")
PLACES = {"money": 2, "volume": 3, "kg": 3, "percent": 2, "number": 2, "count": 0}


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: str = "text"
    # For `code` columns: code → label (a TextChoices' `choices`, or a callable for open sets
    # such as a cashier's id → name). JSON and CSV keep the code.
    choices: Mapping[str, Any] | Callable[[Any], str] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def numeric(self) -> bool:
        return self.kind in PLACES

    def label_of(self, value) -> str:
        """What a person reads for this cell's value (the code's label, or the value itself)."""
        if value is None:
            return ""
        if self.choices is None:
            return str(value)
        if callable(self.choices):
            return str(self.choices(value))
        return str(dict(self.choices).get(value, value))


@dataclass(frozen=True)
class Chart:
    """An ECharts picture of the rows: `kind` line, bar, stacked (bars stacked per series) or
    pie; `x` the column along the axis; `series` the figure columns drawn (or, with `split_by`,
    one series per value of that column and `series[0]` as the figure)."""

    kind: str
    x: str
    series: tuple[str, ...]
    split_by: str = ""

    def __post_init__(self):
        if self.kind not in ("line", "bar", "stacked", "pie"):
            raise ValueError(f"unknown chart kind {self.kind!r}")


@dataclass
class Result:
    columns: list[Column]
    rows: list[dict]
    total: dict
    chart: Chart | None = None
    # Extra lines for the print view and the page (e.g. "first receipt no.").
    notes: list[tuple[StrOrPromise, str]] = field(default_factory=list)
    # Who signs the printed report: one line to sign per label (收款员, 复核, 财务).
    signatures: list[StrOrPromise] = field(default_factory=list)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


# Filters a report may offer, and their labels (the page's form and the export's header).
FILTERS: dict[str, StrOrPromise] = {
    "category": _("Category"),
    "district": _("District"),
    "tariff": _("Tariff"),
    "channel": _("Channel"),
    "cashier": _("Cashier"),
    "route": _("Route"),
    "reader": _("Meter reader"),
    "crew": _("Crew"),
    "priority": _("Priority"),
    "station": _("Station"),
    "level": _("Level"),
    "days": _("Days without a reading"),
    "rule": _("VEE rule"),
    "status": _("Status"),
    "search": _("Search"),
}

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Params:
    """A report's query, validated. Days are the station's local days and `end` is inclusive;
    month reports carry `period_from`/`period_to` (YYYY-MM) and their first/last days."""

    start: date | None = None
    end: date | None = None
    period_from: str = ""
    period_to: str = ""
    as_of: date | None = None
    group_by: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.filters.get(name, "")

    def but(self, **changes) -> Params:
        return replace(self, **changes)

    def query(self, report: Report) -> dict[str, str]:
        """The query string that gives these params back (drill-down and export links)."""
        out: dict[str, str] = {}
        if report.period == "month":
            out["from"], out["to"] = self.period_from, self.period_to
        elif report.period == "day":
            out["from"] = self.start.isoformat() if self.start else ""
            out["to"] = self.end.isoformat() if self.end else ""
        elif report.period == "as_of" and self.as_of:
            out["as_of"] = self.as_of.isoformat()
        if self.group_by:
            out["group_by"] = self.group_by
        out.update({k: v for k, v in self.filters.items() if v})
        return {k: v for k, v in out.items() if v}


def month_bounds(period: str) -> tuple[date, date]:
    """First and last day of a YYYY-MM period."""
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def shift_period(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_between(first: str, last: str) -> list[str]:
    out, current = [], first
    while current <= last:
        out.append(current)
        current = shift_period(current, 1)
    return out


class Report:
    """Subclass, set the class attributes, implement `run`, and `register()` it."""

    name: ClassVar[str]  # URL slug and API name: sales, collections, ...
    title: ClassVar[StrOrPromise]
    description: ClassVar[StrOrPromise] = ""
    permission: ClassVar[str]  # "reports.view_sales_report"
    period: ClassVar[str] = "day"  # day | month | as_of | none (a list with no date range)
    group_by: ClassVar[tuple[str, ...]] = ()  # the first is the default
    group_labels: ClassVar[Mapping[str, StrOrPromise]] = {}
    filters: ClassVar[tuple[str, ...]] = ()
    # Choices offered for a filter on the page (value, label); open sets (districts, cashiers)
    # come from `filter_choices`.
    max_days: ClassVar[int] = 366 * 2
    # False: not on the Reports index (a list exported from its own page, e.g. the customers).
    listed: ClassVar[bool] = True
    # A "day" report of one day only (a daily report): `from` is the day, `to` follows it.
    single_day: ClassVar[bool] = False

    def run(self, params: Params) -> Result:
        raise NotImplementedError

    def count(self, params: Params) -> int | None:
        """How many rows an export of these params holds, for a list-like report whose rows can
        be far more than a page (the page's `run` then shows the first of them). None: the
        export is `run`'s rows, few enough to write while the user waits."""
        return None

    def rows(self, params: Params) -> Iterable[dict]:
        """The rows an export writes, streamed (a list-like report iterates a server-side cursor
        so a million rows cost flat memory); by default `run`'s rows."""
        return self.run(params).rows

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        """The values offered for a filter on the page; [] means a free text field."""
        return []

    def drill(self, params: Params, row: dict) -> str:
        """The URL of the rows behind a table row ("" when there is none)."""
        return ""

    def default_params(self, today: date) -> Params:
        if self.period == "month":
            this = f"{today.year:04d}-{today.month:02d}"
            return Params(period_from=shift_period(this, -11), period_to=this, group_by=self.default_group())
        if self.period == "as_of":
            return Params(as_of=today, group_by=self.default_group())
        if self.period == "none":
            return Params(group_by=self.default_group())
        if self.single_day:
            return Params(start=today, end=today, group_by=self.default_group())
        return Params(start=today.replace(day=1), end=today, group_by=self.default_group())

    def default_group(self) -> str:
        return self.group_by[0] if self.group_by else ""

    def allowed(self, user) -> bool:
        return bool(user and user.is_authenticated and user.has_perm(self.permission))

    def scope(self, user, params: Params) -> Params:
        """Narrow the params to what this user may see (a cashier: their own collections)."""
        return params


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    REPORTS[report.name] = report
    return report


def reports_for(user) -> list[Report]:
    """The reports on the user's Reports index (the listed ones they may run)."""
    return [r for r in REPORTS.values() if r.listed and r.allowed(user)]


def _day(raw: str, name: str, errors: dict) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None
    try:
        PlausibleDate()(value)
    except ValidationError as exc:
        errors[name] = list(exc.messages)
        return None
    return value


def _period(raw: str, name: str, errors: dict) -> str:
    if not raw:
        return ""
    if not PERIOD_RE.match(raw) or not 1900 <= int(raw[:4]) <= 2200:
        errors[name] = [_("Enter a month as YYYY-MM.")]
        return ""
    return raw


def parse_params(report: Report, query: Mapping[str, str], today: date | None = None) -> Params:
    """The validated params of a query string; raises ValidationError (field → messages) on bad
    input, which the API answers with 400 and the page shows on its form."""
    today = today or timezone.localdate()
    base = report.default_params(today)
    errors: dict[str, list] = {}
    changes: dict[str, Any] = {}
    if report.period == "month":
        first = _period(query.get("from", ""), "from", errors) or base.period_from
        last = _period(query.get("to", ""), "to", errors) or base.period_to
        if not errors and first > last:
            errors["to"] = [_("The end comes before the start.")]
        elif not errors and len(periods_between(first, last)) > report.max_days // 28:
            errors["to"] = [_("The range is too long.")]
        changes.update(period_from=first, period_to=last)
    elif report.period == "day":
        start = _day(query.get("from", ""), "from", errors) or base.start
        end = start if report.single_day else _day(query.get("to", ""), "to", errors) or base.end
        if not errors and start and end:
            if start > end:
                errors["to"] = [_("The end comes before the start.")]
            elif (end - start).days > report.max_days:
                errors["to"] = [_("The range is too long.")]
        changes.update(start=start, end=end)
    elif report.period == "as_of":
        changes["as_of"] = _day(query.get("as_of", ""), "as_of", errors) or base.as_of
    group = query.get("group_by", "") or report.default_group()
    if report.group_by and group not in report.group_by:
        errors["group_by"] = [_("Choose one of: %(keys)s.") % {"keys": ", ".join(report.group_by)}]
    changes["group_by"] = group
    filters = {}
    for name in report.filters:
        value = (query.get(name) or "").strip()
        if len(value) > 64:
            errors[name] = [_("Too long.")]
            continue
        choices = report.filter_choices(name)
        if value and choices and value not in {str(code) for code, _label in choices}:
            errors[name] = [_("Not one of the choices.")]
            continue
        if value:
            filters[name] = value
    changes["filters"] = filters
    if errors:
        raise ValidationError(errors)
    return base.but(**changes)


def pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part ÷ whole in percent, half-up to 2 places; None when there is nothing to divide by."""
    from gasworks.lib.money import round_money

    if not whole:
        return None
    return round_money(Decimal(part) * 100 / Decimal(whole))
