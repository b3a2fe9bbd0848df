"""The meter reading report (抄表): completion by route, reader and district, estimated and
flagged shares, flags by VEE rule, tamper alerts; and, as further groupings of the same report,
the meter lists behind them (not read in the period, no reading for N days, zero use, flagged
readings).

Completion (抄表率). A route is read once per calendar month (the cycle the route walk counts:
readings since the 1st). For each month the period touches, take the part of the month inside
the period; a meter is *due* there when it is installed at some time in that part and has not
had a real reading earlier in that month; it is *read* when its first real reading of the month
falls in that part. A real reading is any reading but an estimate or a rejected one (a flagged
reading is a visit: the register was read). Completion = read ÷ due, summed over the months.
Meters count for the route they are on now, its reader now and their premises' district now;
a meter on no route is listed under "not on a route".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gasworks.metering.models import ReadingRoute, ReadingStatus
from gasworks.metering.routes import READER_ROLE
from gasworks.metering.vee import RULE_LABELS, RULES
from gasworks.reports import rollups
from gasworks.reports.framework import Chart, Column, Params, Report, Result, pct
from gasworks.reports.reading import store
from gasworks.reports.reading.models import ReadingDay, ReadingMeterDay

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SUMMARY = ("route", "reader", "district", "rule")
LISTS = ("unread", "silent", "zero_use", "flagged")
GROUP_COLUMN = {"route": "route_id", "reader": "reader_id", "district": "district"}
DAYS_CHOICES = ("30", "60", "90", "180", "365")
DEFAULT_DAYS = 60
# The page and the files list at most this many meters; the note says how many there were.
LIST_LIMIT = 5000


@dataclass(frozen=True)
class Cond:
    """Which rollup rows a figure sums, as a Q for the rollup table and as a test on a live row
    (the same rule twice, side by side, so the two paths cannot drift apart)."""

    rule: str | None = None  # "" the reading rows, "*" any rule row, else that rule
    status: str | None = None
    first: dt.date | None = None
    last: dt.date | None = None  # inclusive
    kept_at: dt.date | None = None  # the meter was not removed before this day

    def q(self) -> Q:
        q = Q()
        if self.rule == "*":
            q &= ~Q(rule="")
        elif self.rule is not None:
            q &= Q(rule=self.rule)
        if self.status is not None:
            q &= Q(status=self.status)
        if self.first is not None:
            q &= Q(day__gte=self.first)
        if self.last is not None:
            q &= Q(day__lte=self.last)
        if self.kept_at is not None:
            q &= Q(removed_on__isnull=True) | Q(removed_on__gte=self.kept_at)
        return q

    def test(self, row: dict) -> bool:
        if self.rule == "*" and not row["rule"]:
            return False
        if self.rule not in (None, "*") and row["rule"] != self.rule:
            return False
        if self.status is not None and row["status"] != self.status:
            return False
        if self.first is not None and row["day"] < self.first:
            return False
        if self.last is not None and row["day"] > self.last:
            return False
        removed = row.get("removed_on")
        return self.kept_at is None or removed is None or removed >= self.kept_at


def slices(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The parts of each calendar month inside [start, end]."""
    out, first = [], store.month_first(start)
    while first <= end:
        out.append((max(start, first), min(end, store.month_last(first))))
        first = store.month_last(first) + dt.timedelta(days=1)
    return out


def _sums(model, name: str, rows_for, group: str, measures: dict[str, tuple[str, Cond]], where: dict, span):
    """{group value: {measure: total}}: rollup rows for the days it holds, live rows for the
    days touched since its last refresh (all days when it was never refreshed)."""
    live = rollups.keys_to_read_live(name)
    first, last = span
    if live is None:
        live_days = None if first is None else store.days_between(first, last)
    else:
        live_days = sorted(d for d in live if (first is None or d >= first) and d <= last)
    out: dict = defaultdict(lambda: dict.fromkeys(measures, 0))
    if live is not None:
        q_where = Q(**where) & Q(day__lte=last) & (Q(day__gte=first) if first else Q())
        stored = store.rollup_sums(
            model, GROUP_COLUMN.get(group, group), {k: (c, cond.q()) for k, (c, cond) in measures.items()},
            q_where, live_days or (),
        )  # fmt: skip
        for key, figures in stored.items():
            for measure, value in figures.items():
                out[key][measure] += value or 0
    for row in rows_for(live_days):
        if row["day"] > last or (first and row["day"] < first):
            continue
        if any(row[k] != v for k, v in where.items()):
            continue
        key = row[GROUP_COLUMN.get(group, group)] if group else ""
        for measure, (column, cond) in measures.items():
            if cond.test(row):
                out[key][measure] += row[column]
    return out


def _reading_rows(days):
    if days is None:
        raise ValueError("reading days are always bounded")
    return [row for day in days for row in store.reading_day_rows(day)]


def _meter_rows(days):
    return store.meter_day_rows(days)


def _route_names() -> dict[int, str]:
    return dict(ReadingRoute.objects.values_list("pk", "name"))


def _user_names(ids) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i])
    return {u.pk: u.get_full_name() or u.username for u in users}


class ReadingReport(Report):
    name = "reading"
    title = _("Meter reading")
    description = _(
        "Completion (抄表率) = meters read ÷ meters due. A route is read once a calendar month: in "
        "each month's part of the period a meter is due when it is installed then and has no real "
        "reading earlier that month, and read when its first real reading of the month falls in "
        "the period. Estimates and rejected readings are not real readings. Meters count for the "
        "route they are on now. Flagged: readings VEE flagged, whatever was decided since. "
        "“No reading for N days” is counted up to today."
    )
    permission = "reports.view_reading_report"
    period = "day"
    group_by = SUMMARY + LISTS
    group_labels = {
        "route": _("Route"),
        "reader": _("Meter reader"),
        "district": _("District"),
        "rule": _("VEE rule"),
        "unread": _("List: meters not read"),
        "silent": _("List: no reading for N days"),
        "zero_use": _("List: zero use"),
        "flagged": _("List: flagged readings"),
    }
    filters = ("route", "reader", "district", "rule", "days")

    # ------------------------------------------------------------ access

    def scope(self, user, params: Params) -> Params:
        """A meter reader sees the routes assigned to them, whatever they ask for."""
        if getattr(user, "role", "") == READER_ROLE and not user.has_perm("metering.change_readingroute"):
            return params.but(filters={**params.filters, "reader": str(user.pk)})
        return params

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "route":
            return [
                (str(pk), label)
                for pk, label in ReadingRoute.objects.order_by("name").values_list("pk", "name")
            ]
        if name == "reader":
            users = get_user_model().objects.filter(role=READER_ROLE).order_by("username")
            return [(str(u.pk), u.get_full_name() or u.username) for u in users]
        if name == "rule":
            return [(code, str(label)) for code, label in RULE_LABELS.items()]
        if name == "days":
            return [(d, d) for d in DAYS_CHOICES]
        return []

    def _where(self, params: Params) -> dict:
        where: dict = {}
        if params.get("route"):
            where["route_id"] = int(params.get("route"))
        if params.get("reader"):
            where["reader_id"] = int(params.get("reader"))
        if params.get("district"):
            where["district"] = params.get("district")
        return where

    # ------------------------------------------------------------ run

    def run(self, params: Params) -> Result:
        if params.group_by in LISTS:
            return getattr(self, f"_list_{params.group_by}")(params)
        if params.group_by == "rule":
            return self._by_rule(params)
        return self._summary(params)

    def figures(self, params: Params, group: str) -> dict:
        """{group value: figures} of the summary groupings (group "" = the whole scope)."""
        start, end = params.start, params.end
        assert start is not None and end is not None
        where = self._where(params)
        measures = {
            "readings": ("readings", Cond(rule="", first=start, last=end)),
            "estimated": ("readings", Cond(rule="", status=ReadingStatus.ESTIMATED, first=start, last=end)),
            "flagged": ("flagged", Cond(rule="", first=start, last=end)),
            "awaiting": ("readings", Cond(rule="", status=ReadingStatus.FLAGGED, first=start, last=end)),
            "read": ("first_reads", Cond(rule="", first=start, last=end)),
            # Meters read earlier in the first month, before the period began (and not removed
            # by then): no longer due in that month.
            "earlier": (
                "first_reads",
                Cond(
                    rule="", first=store.month_first(start), last=start - dt.timedelta(days=1), kept_at=start
                ),
            ),
            "alerts_opened": ("alerts_opened", Cond(first=start, last=end)),
            "alerts_closed": ("alerts_closed", Cond(first=start, last=end)),
        }
        got = _sums(
            ReadingDay, "reading_day", _reading_rows, group, measures, where, (store.month_first(start), end)
        )
        # Installed in [a, b] = installed by b less removed before a.
        active: dict[str, tuple[str, Cond]] = {}
        for i, (a, b) in enumerate(slices(start, end)):
            active[f"in{i}"] = ("installed", Cond(last=b))
            active[f"out{i}"] = ("removed", Cond(last=a - dt.timedelta(days=1)))
        meters = _sums(ReadingMeterDay, "reading_meter_day", _meter_rows, group, active, where, (None, end))
        out = {}
        for key in set(got) | set(meters):
            f = dict(got[key]) if key in got else dict.fromkeys(measures, 0)
            m = meters.get(key, {})
            due = sum(m.get(f"in{i}", 0) - m.get(f"out{i}", 0) for i in range(len(active) // 2)) - f.pop(
                "earlier"
            )
            f["due"] = due
            if any(f.values()):
                out[key] = f
        return out

    def _summary(self, params: Params) -> Result:
        group = params.group_by
        figures = self.figures(params, group)
        if group == "route":
            names = _route_names()
            key_col = Column("route", _("Route"), "code", _coded({0: str(_("(not on a route)")), **names}))
            order = sorted(figures, key=lambda k: (k == 0, names.get(k, str(k))))
        elif group == "reader":
            names = _user_names(figures)
            key_col = Column("reader", _("Meter reader"), "code", _coded({0: str(_("(no reader)")), **names}))
            order = sorted(figures, key=lambda k: (k == 0, names.get(k, str(k))))
        else:
            key_col = Column("district", _("District"), "code", _coded({"": str(_("(no district)"))}))
            order = sorted(figures, key=lambda k: (k == "", k))
        columns = [
            key_col,
            Column("due", _("Meters due"), "count"),
            Column("read", _("Meters read"), "count"),
            Column("completion_pct", _("Completion %"), "percent"),
            Column("readings", _("Readings"), "count"),
            Column("estimated", _("Estimated"), "count"),
            Column("estimated_pct", _("Estimated %"), "percent"),
            Column("flagged", _("Flagged"), "count"),
            Column("flagged_pct", _("Flagged %"), "percent"),
            Column("awaiting", _("Awaiting review"), "count"),
            Column("alerts_opened", _("Tamper alerts opened"), "count"),
            Column("alerts_closed", _("Tamper alerts closed"), "count"),
        ]
        rows = [{key_col.key: key, **self._shares(figures[key])} for key in order]
        total: dict = {key_col.key: None}
        if rows:
            sums = {k: sum(figures[key][k] for key in figures) for k in figures[order[0]]}
            total.update(self._shares(sums))
        chart = Chart("bar", key_col.key, ("completion_pct",)) if rows else None
        return Result(columns, rows, total, chart)

    @staticmethod
    def _shares(f: dict) -> dict:
        return {
            "due": f["due"],
            "read": f["read"],
            "completion_pct": pct(f["read"], f["due"]),
            "readings": f["readings"],
            "estimated": f["estimated"],
            "estimated_pct": pct(f["estimated"], f["readings"]),
            "flagged": f["flagged"],
            "flagged_pct": pct(f["flagged"], f["readings"]),
            "awaiting": f["awaiting"],
            "alerts_opened": f["alerts_opened"],
            "alerts_closed": f["alerts_closed"],
        }

    def _by_rule(self, params: Params) -> Result:
        start, end = params.start, params.end
        assert start is not None and end is not None
        measures = {
            "flags": ("readings", Cond(rule="*", first=start, last=end)),
            "awaiting": ("readings", Cond(rule="*", status=ReadingStatus.FLAGGED, first=start, last=end)),
            "approved": ("readings", Cond(rule="*", status=ReadingStatus.APPROVED, first=start, last=end)),
            "rejected": ("readings", Cond(rule="*", status=ReadingStatus.REJECTED, first=start, last=end)),
            "all": ("readings", Cond(rule="", first=start, last=end)),
        }
        got = _sums(
            ReadingDay, "reading_day", _reading_rows, "rule", measures, self._where(params), (start, end)
        )
        readings = sum(f["all"] for f in got.values())
        if params.get("rule"):
            got = {k: v for k, v in got.items() if k == params.get("rule")}
        known = {code: i for i, code in enumerate(RULES)}
        rows = [
            {
                "rule": code,
                "flags": got[code]["flags"],
                "share_pct": pct(got[code]["flags"], readings),
                "awaiting": got[code]["awaiting"],
                "approved": got[code]["approved"],
                "rejected": got[code]["rejected"],
            }
            for code in sorted((k for k in got if k and got[k]["flags"]), key=lambda c: (known.get(c, 99), c))
        ]
        columns = [
            Column("rule", _("VEE rule"), "code", RULE_LABELS),
            Column("flags", _("Readings flagged"), "count"),
            Column("share_pct", _("Share of readings, %"), "percent"),
            Column("awaiting", _("Awaiting review"), "count"),
            Column("approved", _("Approved"), "count"),
            Column("rejected", _("Rejected"), "count"),
        ]
        total: dict = {"rule": None}
        if rows:
            total.update({k: sum(r[k] for r in rows) for k in ("flags", "awaiting", "approved", "rejected")})
        notes: list[tuple[StrOrPromise, str]] = [(_("Readings in the period"), str(readings))]
        return Result(columns, rows, total, Chart("pie", "rule", ("flags",)) if rows else None, notes)

    # ------------------------------------------------------------ lists

    def _meter_filter(self, params: Params) -> tuple[int, int, str]:
        w = self._where(params)
        return w.get("route_id", 0) or 0, w.get("reader_id", 0) or 0, w.get("district", "")

    def _list_columns(self, rows: list[dict], extra: list[Column]) -> list[Column]:
        names = _route_names()
        readers = _user_names({r["reader"] for r in rows})
        return [
            Column("meter", _("Meter"), "text"),
            Column("route", _("Route"), "code", _coded({0: str(_("(not on a route)")), **names})),
            Column("reader", _("Meter reader"), "code", _coded({0: "", **readers})),
            Column("district", _("District"), "text"),
            *extra,
        ]

    def _matches(self, params: Params, route_id: int, reader_id: int, district: str) -> bool:
        w = self._where(params)
        return (
            w.get("route_id", route_id) == route_id
            and w.get("reader_id", reader_id) == reader_id
            and w.get("district", district) == district
        )

    @staticmethod
    def _limited(rows: list[dict], columns, total) -> Result:
        notes: list[tuple[StrOrPromise, str]] = []
        if len(rows) > LIST_LIMIT:
            notes.append((_("Listed"), _("the first %(n)d of %(all)d") % {"n": LIST_LIMIT, "all": len(rows)}))
            rows = rows[:LIST_LIMIT]
        return Result(columns, rows, total, None, notes)

    def _list_unread(self, params: Params) -> Result:
        """Meters due in a month's part of the period and not read in it (one row per month)."""
        start, end = params.start, params.end
        assert start is not None and end is not None
        route_id, reader_id, district = self._meter_filter(params)
        meters = store.meters_active(start, end, route_id, reader_id, district)
        first_day = store.month_first(start)
        reads = store.real_readings(
            [m["pk"] for m in meters], store.day_start(first_day), store.day_start(end + dt.timedelta(days=1))
        )
        read_days: dict[int, list[dt.date]] = defaultdict(list)
        for meter_id, taken_at in reads:
            read_days[meter_id].append(timezone.localtime(taken_at, store.tz()).date())
        rows = []
        for m in meters:
            days = read_days.get(m["pk"], [])
            for a, b in slices(start, end):
                if m["installed_on"] > b or (m["removed_on"] and m["removed_on"] < a):
                    continue
                month = store.month_first(a)
                if any(month <= d < a for d in days) or any(a <= d <= b for d in days):
                    continue
                last = max((d for d in days if d < a), default=None)
                rows.append(
                    {
                        "meter": m["serial_no"],
                        "meter_id": m["pk"],
                        "route": m["route_id_"],
                        "reader": m["reader_id_"],
                        "district": m["district_"] or "",
                        "month": f"{month:%Y-%m}",
                        "last_read": last,
                    }
                )
        rows.sort(key=lambda r: (r["month"], r["route"], r["meter"]))
        columns = self._list_columns(
            rows, [Column("month", _("Month"), "period"), Column("last_read", _("Last real reading"), "day")]
        )
        return self._limited(rows, columns, {})

    def _list_silent(self, params: Params) -> Result:
        """Active meters with no real reading in the last N days, up to today."""
        days = int(params.get("days") or DEFAULT_DAYS)
        today = timezone.localdate()
        cutoff = store.day_start(today - dt.timedelta(days=days))
        live = rollups.keys_to_read_live("reading_last")
        if live is None:
            candidates = [r.meter_id for r in store.last_read_rows(None) if self._quiet(r, cutoff)]
        else:
            candidates = store.quiet_meters(cutoff, live)
            candidates += [r.meter_id for r in store.last_read_rows(sorted(live)) if self._quiet(r, cutoff)]
        described = store.meters_described(candidates)
        newest = store.newest_real(candidates)
        rows = []
        for pk in candidates:
            m = described.get(pk)
            if m is None or not self._matches(params, m["route_id_"], m["reader_id_"], m["district_"] or ""):
                continue
            last = newest.get(pk)
            since = timezone.localtime(last, store.tz()).date() if last else m["installed_on"]
            rows.append(
                {
                    "meter": m["serial_no"],
                    "meter_id": pk,
                    "route": m["route_id_"],
                    "reader": m["reader_id_"],
                    "district": m["district_"] or "",
                    "last_read": since if last else None,
                    "installed_on": m["installed_on"],
                    "quiet_days": (today - since).days,
                }
            )
        rows.sort(key=lambda r: (-r["quiet_days"], r["meter"]))
        columns = self._list_columns(
            rows,
            [
                Column("last_read", _("Last real reading"), "day"),
                Column("installed_on", _("Installed on"), "day"),
                Column("quiet_days", _("Days without a reading"), "count"),
            ],
        )
        return self._limited(rows, columns, {"meter": None, "quiet_days": None})

    @staticmethod
    def _quiet(row, cutoff) -> bool:
        return row.active and row.quiet_since < cutoff

    def _list_zero_use(self, params: Params) -> Result:
        start, end = params.start, params.end
        assert start is not None and end is not None
        found = store.zero_use(store.day_start(start), store.day_start(end + dt.timedelta(days=1)))
        described = store.meters_described([pk for pk, _n in found])
        rows = []
        for pk, readings in found:
            m = described[pk]
            if not self._matches(params, m["route_id_"], m["reader_id_"], m["district_"] or ""):
                continue
            rows.append(
                {
                    "meter": m["serial_no"],
                    "meter_id": pk,
                    "route": m["route_id_"],
                    "reader": m["reader_id_"],
                    "district": m["district_"] or "",
                    "readings": readings,
                    "volume": Decimal("0.000"),
                }
            )
        rows.sort(key=lambda r: r["meter"])
        columns = self._list_columns(
            rows,
            [
                Column("readings", _("Billable readings"), "count"),
                Column("volume", _("Volume, m³"), "volume"),
            ],
        )
        return self._limited(rows, columns, {"meter": None, "readings": sum(r["readings"] for r in rows)})

    def _list_flagged(self, params: Params) -> Result:
        start, end = params.start, params.end
        assert start is not None and end is not None
        route_id, reader_id, district = self._meter_filter(params)
        meter_filter: dict = {}
        if route_id:
            meter_filter["route_id_"] = route_id
        if reader_id:
            meter_filter["reader_id_"] = reader_id
        if district:
            meter_filter["district_"] = district
        readings = store.flagged_readings(
            store.day_start(start), store.day_start(end + dt.timedelta(days=1)), meter_filter
        )
        rule = params.get("rule")
        rows = [
            {
                "meter": r["meter__serial_no"],
                "meter_id": r["meter_id"],
                "route": r["route_id_"],
                "reader": r["reader_id_"],
                "district": r["district_"] or "",
                "taken_at": timezone.localtime(r["taken_at"], store.tz()).strftime("%Y-%m-%d %H:%M"),
                "rules": ",".join(r["flags"]),
                "status": r["status"],
            }
            for r in readings
            if r["flags"] and (not rule or rule in r["flags"])
        ]
        columns = self._list_columns(
            rows,
            [
                Column("taken_at", _("Taken at"), "text"),
                Column("rules", _("VEE rules"), "code", _rule_labels),
                Column("status", _("Status"), "code", dict(ReadingStatus.choices)),
            ],
        )
        return self._limited(rows, columns, {})

    # ------------------------------------------------------------ drill-down

    def drill(self, params: Params, row: dict) -> str:
        """A route's, reader's or district's unread meters; a rule's flagged readings; a listed
        meter's page."""
        base = reverse("reports:report", args=[self.name])
        query = params.query(self)
        group = params.group_by
        if group in ("route", "reader", "district"):
            if not row.get(group):
                return ""
            query.update({"group_by": "unread", group: str(row[group])})
            return f"{base}?{urlencode(query)}"
        if group == "rule":
            query.update(group_by="flagged", rule=row["rule"])
            return f"{base}?{urlencode(query)}"
        if row.get("meter_id"):
            return reverse("metering:meter-detail", args=[row["meter_id"]])
        return ""


def _coded(labels: dict) -> Callable[[Any], str]:
    """A code column's labels where the codes are not all strings (route and user ids)."""
    return lambda value: str(labels.get(value, value))


def _rule_labels(value: str) -> str:
    return ", ".join(str(RULE_LABELS.get(code, code)) for code in (value or "").split(",") if code)
