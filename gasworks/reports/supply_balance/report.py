"""Supply–sales balance (供销差): gas sent into each district against gas billed there.

Per district and month: ``supply`` is the volume of the district's supply meters (gate station
or regulator, kind ``district``), at base conditions; ``sales`` the volume of the issued bills
of the district's customers for that period; ``loss = supply − sales`` and ``loss_pct = loss ÷
supply`` in percent, half-up to 2 places. A district-month whose loss % is above the
``supply_loss_alarm_pct`` parameter is flagged; its drill-down lists the suspect meters there
(suspects.py). A month without a billable supply reading has no supply figure: its loss is
unknown, never 100 %, and it is not flagged.

Districts are the ``Premises.district`` names (there is no table of districts): a supply
meter's ``district`` is matched with its customers' premises by name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gasworks.lib.dates import start_of_day
from gasworks.reports.framework import (
    Chart,
    Column,
    Params,
    Report,
    Result,
    month_bounds,
    pct,
    periods_between,
    register,
    shift_period,
)
from gasworks.reports.supply_balance import store
from gasworks.system import parameters
from gasworks.system.parameters import Spec

parameters.register(
    Spec(
        "supply_loss_alarm_pct",
        Decimal,
        # A few percent is usual for piped gas (leaks, meter tolerances, timing); well above
        # points to leaks, faulty meters or theft.
        Decimal("5"),
        _("Supply–sales loss above which a district is flagged, %"),
        "metering",
        Decimal("0"),
    ),
    Spec(
        "supply_drop_pct",
        Decimal,
        Decimal("50"),
        _("Suspect meters: use below this share of the same months last year, %"),
        "metering",
        Decimal("0"),
    ),
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ZERO = Decimal("0.000")


def _billed_volume(period_from: str, period_to: str) -> dict[tuple[str, str], Decimal]:
    """(district, period) -> billed volume of the district's customers: issued bills only (void
    ones left out), by the customer's premises district, from the sales report (its rollup keeps
    it fast at scale; one definition of "sold" for both reports)."""
    from gasworks.reports.sales.report import billed_volume

    return billed_volume(period_from, period_to)


def alarm_pct() -> Decimal:
    return Decimal(parameters.get("supply_loss_alarm_pct"))


def _district_label(code) -> str:
    return str(code) if code else str(_("(no district)"))


def _flag_label(value) -> str:
    return str(_("Above the alarm")) if value else ""


def balance_rows(period_from: str, period_to: str, district: str = "") -> list[dict]:
    """Rows ranked by loss % (highest first; rows without a supply figure last)."""
    start = start_of_day(month_bounds(period_from)[0])
    end = start_of_day(month_bounds(shift_period(period_to, 1))[0])  # local months, end exclusive
    supply = store.supply_volume(start, end)
    sales = _billed_volume(period_from, period_to)
    periods = set(periods_between(period_from, period_to))
    keys = {k for k in supply if k[1] in periods} | {k for k in sales if k[1] in periods}
    if district:
        keys = {k for k in keys if k[0] == district}
    threshold = alarm_pct()
    rows = []
    for name, period in keys:
        supplied = supply.get((name, period))
        sold = sales.get((name, period), ZERO)
        loss = None if supplied is None else supplied - sold
        loss_pct = None if supplied is None or loss is None else pct(loss, supplied)
        rows.append(
            {
                "district": name,
                "period": period,
                "supply": supplied,
                "sales": sold,
                "loss": loss,
                "loss_pct": loss_pct,
                "flagged": loss_pct is not None and loss_pct > threshold,
            }
        )
    rows.sort(key=_rank)
    return rows


def _rank(row: dict[str, Any]) -> tuple:
    """Highest loss % first; rows without a supply figure last."""
    loss_pct = row["loss_pct"]
    return (loss_pct is None, -(loss_pct or 0), row["district"], row["period"])


class SupplyBalanceReport(Report):
    name = "supply-balance"
    title = _("Supply–sales balance")
    description = _(
        "Gas sent into each district by its supply meters (at base conditions) against the gas "
        "billed to the district's customers for the same month. Loss = supply − sales; loss % = "
        "loss ÷ supply. A district above the alarm threshold is flagged: open its details for "
        "the suspect meters. A month with no supply meter reading shows no supply and is not "
        "flagged."
    )
    permission = "reports.view_supply_balance_report"
    period = "month"
    filters = ("district",)

    def filter_choices(self, name: str) -> list[tuple[str, str]]:
        if name == "district":
            return [(d, d) for d in store.districts()]
        return []

    def run(self, params: Params) -> Result:
        rows = balance_rows(params.period_from, params.period_to, params.get("district"))
        columns = [
            Column("district", _("District"), "code", _district_label),
            Column("period", _("Period"), "period"),
            Column("supply", _("Supply, m³"), "volume"),
            Column("sales", _("Sales (billed), m³"), "volume"),
            Column("loss", _("Loss, m³"), "volume"),
            Column("loss_pct", _("Loss %"), "percent"),
            Column("flagged", _("Flag"), "code", _flag_label),
        ]
        measured = [r for r in rows if r["supply"] is not None]
        supply = sum((r["supply"] for r in measured), ZERO)
        loss = sum((r["loss"] for r in measured), ZERO)
        total = {
            "district": None,
            "supply": supply if measured else None,
            "sales": sum((r["sales"] for r in rows), ZERO),
            "loss": loss if measured else None,
            "loss_pct": pct(loss, supply) if measured else None,
        }
        threshold = alarm_pct()
        notes: list[tuple[StrOrPromise, str]] = [
            (_("Alarm threshold"), f"{threshold} %"),
            (
                _("Rows without supply"),
                str(
                    _(
                        "No reading of the district's supply meters in that month: supply and loss "
                        "stay empty and the row is not flagged. The total's loss counts only the "
                        "rows with a supply figure."
                    )
                ),
            ),
            (_("Flagged"), str(sum(1 for r in rows if r["flagged"]))),
        ]
        chart = Chart("line", "period", ("loss_pct",), split_by="district")
        if len({r["period"] for r in rows}) == 1:
            chart = Chart("bar", "district", ("loss_pct",))
        return Result(columns, rows, total, chart, notes)

    def drill(self, params: Params, row: dict) -> str:
        query = {"district": row["district"], "from": row["period"], "to": row["period"]}
        return f"{reverse('reports:supply-suspects')}?{urlencode(query)}"


register(SupplyBalanceReport())
