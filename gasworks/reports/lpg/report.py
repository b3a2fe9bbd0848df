"""The LPG report: fills and kg per day, filler, station and cylinder size; refused fills by
reason; deliveries and deposits; and, at the end of the range, cylinders due for inspection or
scrap and the deposits held (with the empties customers owe now)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gasworks.cylinders.models import CylinderModel, RefusalReason, Station
from gasworks.lib.money import round_money, round_volume
from gasworks.reports.framework import Chart, Column, Params, Report, Result
from gasworks.reports.lpg import store

FILLS, ORDERS, DUE = "fills", "orders", "due"
# What each grouping speaks about; rows get those figures and leave the others empty.
SECTIONS_BY_GROUP = {
    "day": {FILLS, ORDERS},
    "filler": {FILLS},
    "station": {FILLS, DUE},
    "size": {FILLS, ORDERS, DUE},
    "reason": {FILLS},
}
ZERO = Decimal("0")


class LpgReport(Report):
    name = "lpg"
    title = _("LPG")
    description = _(
        "Fills and kg filled by local day; refused fills are the interlock's and the scale's "
        "refusals. Deliveries and deposits count delivered orders and returns for good. Cylinders "
        "due: in service with their inspection or scrap date on or before the last day. Deposits "
        "held: taken less refunded up to the last day. Empties owed: cylinders customers hold "
        "without a deposit, now."
    )
    permission = "reports.view_lpg_report"
    period = "day"
    group_by = ("day", "filler", "station", "size", "reason")
    group_labels = {
        "day": _("Day"),
        "filler": _("Filler"),
        "station": _("Station"),
        "size": _("Cylinder size"),
        "reason": _("Refusal reason"),
    }
    filters = ("station",)

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "station":
            return [(code, f"{code} {title}") for code, title in Station.objects.values_list("code", "name")]
        return []

    def columns(self, group: str) -> list[Column]:
        keys = {
            "day": Column("day", _("Day"), "day"),
            "filler": Column("filler", _("Filler"), "text"),
            "station": Column("station", _("Station"), "text"),
            "size": Column("size", _("Cylinder size"), "code", dict(CylinderModel.choices)),
            "reason": Column("reason", _("Refusal reason"), "code", dict(RefusalReason.choices)),
        }
        return [
            keys[group],
            Column("fills", _("Fills"), "count"),
            Column("kg_filled", _("Kg filled"), "kg"),
            Column("refused", _("Refused fills"), "count"),
            Column("deliveries", _("Deliveries"), "count"),
            Column("cylinders_delivered", _("Cylinders delivered"), "count"),
            Column("sales", _("Sales"), "money"),
            Column("empties_back", _("Empties back"), "count"),
            Column("deposits_taken", _("Deposits taken"), "money"),
            Column("deposits_refunded", _("Deposits refunded"), "money"),
            Column("due_inspection", _("Due for inspection"), "count"),
            Column("due_scrap", _("Due for scrap"), "count"),
            Column("deposits_held", _("Deposits held"), "money"),
            Column("empties_owed", _("Empties owed (now)"), "count"),
        ]

    def run(self, params: Params) -> Result:
        assert params.start and params.end
        first, last, group = params.start, params.end, params.group_by
        station = params.get("station")
        # A station narrows fills and cylinders; orders and deposits belong to no station.
        sections = {FILLS, DUE} if station else {FILLS, ORDERS, DUE}
        shown = sections & SECTIONS_BY_GROUP[group]
        facts = store.facts(first, last)

        rows: dict = defaultdict(Counter)
        total: Counter = Counter()
        for (day, st, filler, model), f in facts.fills.items():
            if station and st != station:
                continue
            figures = {"fills": f["fills"], "kg_filled": f["kg"]}
            total.update(figures)
            if FILLS in shown and group != "reason":
                rows[self._key(group, day=day, station=st, filler=filler, model=model)].update(figures)
        for (day, st, filler, model, reason), n in facts.refusals.items():
            if station and st != station:
                continue
            total["refused"] += n
            if FILLS in shown:
                rows[self._key(group, day=day, station=st, filler=filler, model=model, reason=reason)][
                    "refused"
                ] += n
        if ORDERS in sections:
            for (day, model), f in facts.orders.items():
                figures = {
                    "deliveries": f["deliveries"],
                    "cylinders_delivered": f["cylinders"],
                    "sales": f["amount"],
                    "empties_back": f["empties_back"],
                    "deposits_taken": f["deposits_taken"],
                    "deposits_refunded": f["deposits_refunded"],
                }
                total.update(figures)
                if ORDERS in shown and (group == "day" or model):
                    rows[self._key(group, day=day, model=model)].update(figures)
        if DUE in sections:
            for (st, model), f in store.cylinders_due(last, station).items():
                figures = {"due_inspection": f["inspection"], "due_scrap": f["scrap"]}
                total.update(figures)
                if DUE in shown:
                    rows[self._key(group, station=st, model=model)].update(figures)

        keys = list(rows)
        if group == "day":  # every day of the range, for the chart
            keys = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
        out = [self._row(group, key, rows.get(key, Counter()), shown) for key in sorted(keys)]
        summary = self._figures(total, sections | {FILLS})
        if ORDERS in sections:
            summary["deposits_held"] = round_money(store.deposits_held(last))
            summary["empties_owed"] = store.empties_owed()
        chart = (
            Chart("bar", group, ("fills", "kg_filled"))
            if group != "reason"
            else Chart("bar", "reason", ("refused",))
        )
        if group == "day":
            chart = Chart("line", "day", ("fills", "kg_filled"))
        return Result(self.columns(group), out, summary, chart)

    @staticmethod
    def _key(group: str, day=None, station="", filler="", model="", reason=""):
        return {"day": day, "station": station, "filler": filler, "size": model, "reason": reason}[group]

    def _row(self, group: str, key, figures: Counter, shown: set) -> dict:
        row = {group: key}
        if group == "reason":
            row["refused"] = figures["refused"]
            return row
        row.update(self._figures(figures, shown))
        return row

    @staticmethod
    def _figures(f: Counter, shown: set) -> dict:
        out: dict = {}
        if FILLS in shown:
            out.update(fills=f["fills"], kg_filled=round_volume(f["kg_filled"] or ZERO), refused=f["refused"])
        if ORDERS in shown:
            out.update(
                deliveries=f["deliveries"],
                cylinders_delivered=f["cylinders_delivered"],
                sales=round_money(f["sales"] or ZERO),
                empties_back=f["empties_back"],
                deposits_taken=round_money(f["deposits_taken"] or ZERO),
                deposits_refunded=round_money(f["deposits_refunded"] or ZERO),
            )
        if DUE in shown:
            out.update(due_inspection=f["due_inspection"], due_scrap=f["due_scrap"])
        return out

    def drill(self, params: Params, row: dict) -> str:
        assert params.start and params.end
        group = params.group_by
        if group in ("station", "size"):
            query = {
                "due_by": params.end.isoformat(),
                "station": row["station"] if group == "station" else params.get("station"),
                "model": row.get("size", ""),
            }
            return reverse("cylinders:list") + "?" + urlencode({k: v for k, v in query.items() if v})
        if group == "day":
            day = row["day"].isoformat()
            return (
                reverse("cylinders:orders") + "?" + urlencode({"status": "delivered", "from": day, "to": day})
            )
        return ""
