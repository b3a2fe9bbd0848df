"""Cylinder rules that stations tune: rated fills per model, inspection and scrap ages, the home
station, deposits. They are parameters, because standards and stations differ on them (a station
checks them against the edition it works to); the date math is pure."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from gasworks.cylinders.models import CylinderModel, Standard
from gasworks.lib.dates import PlausibleDate
from gasworks.system import parameters
from gasworks.system.parameters import Spec

GROUP = "cylinders"

# Default rated fills (kg of LPG) by model: YSP118 49.5 kg and YSP35.5 ≈ 14.5 kg (the trade
# figures); the others follow the GB 5842 filling table as commonly published (YSP4.7 1.9 kg,
# YSP12 5.0 kg, YSP26.2 11.0 kg) — check against the edition the station works to.
DEFAULT_RATED_FILL = {
    CylinderModel.YSP4_7: Decimal("1.9"),
    CylinderModel.YSP12: Decimal("5.0"),
    CylinderModel.YSP26_2: Decimal("11.0"),
    CylinderModel.YSP35_5: Decimal("14.5"),
    CylinderModel.YSP118: Decimal("49.5"),
}


def rated_fill_key(model: str) -> str:
    return "lpg_rated_fill_" + model.lower().replace(".", "_")


parameters.register(
    *(
        Spec(
            rated_fill_key(model),
            Decimal,
            kg,
            _("Rated fill of %(model)s, kg (check GB 5842)") % {"model": model},
            GROUP,
            Decimal("0.1"),
        )
        for model, kg in DEFAULT_RATED_FILL.items()
    ),
    Spec(
        "lpg_station_code",
        str,
        "S01",
        _("Code of this filling station (it fills only its own cylinders)"),
        GROUP,
    ),
    Spec(
        "lpg_gb2006_design_life_years",
        int,
        8,
        _("GB 5842-2006 cylinders: design life, years"),
        GROUP,
        Decimal("1"),
    ),
    Spec(
        "lpg_gb2006_extension_years",
        int,
        4,
        _("GB 5842-2006 cylinders: further service after passing inspection, years"),
        GROUP,
        Decimal("0"),
    ),
    Spec(
        "lpg_old_scrap_years",
        int,
        15,
        _("Older civil cylinders: scrapped at age, years (check)"),
        GROUP,
        Decimal("1"),
    ),
    Spec(
        "lpg_inspection_interval_years",
        int,
        4,
        _("Cylinder periodic inspection interval, years"),
        GROUP,
        Decimal("1"),
    ),
    Spec(
        "lpg_deposit_per_cylinder",
        Decimal,
        Decimal("100.00"),
        _("Deposit per cylinder lent to a customer, CNY"),
        GROUP,
        Decimal("0"),
    ),
)


def default_rated_fill(model: str) -> Decimal:
    return parameters.get(rated_fill_key(model))


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def scrap_age_years(standard: str) -> int:
    if standard == Standard.GB5842_2006:
        return parameters.get("lpg_gb2006_design_life_years") + parameters.get("lpg_gb2006_extension_years")
    return parameters.get("lpg_old_scrap_years")


def scrap_date(standard: str, manufactured_on: datetime.date) -> datetime.date:
    return add_years(manufactured_on, scrap_age_years(standard))


def first_inspection_due(standard: str, manufactured_on: datetime.date) -> datetime.date:
    """A GB 5842-2006 cylinder is first inspected at the end of its design life; an older one
    after one interval."""
    if standard == Standard.GB5842_2006:
        years = parameters.get("lpg_gb2006_design_life_years")
    else:
        years = parameters.get("lpg_inspection_interval_years")
    return min(add_years(manufactured_on, years), scrap_date(standard, manufactured_on))


def longest_inspection_gap_years() -> int:
    """How far ahead a next inspection can lawfully be: a new GB 5842-2006 cylinder's design
    life, or one interval. A date beyond it would keep a cylinder fillable past its inspection."""
    return max(
        int(parameters.get("lpg_gb2006_design_life_years")),
        int(parameters.get("lpg_inspection_interval_years")),
    )


# The window of a next-inspection date typed in: the usual past, and at most the longest gap ahead.
NEXT_INSPECTION = PlausibleDate(future_years=longest_inspection_gap_years)


def next_inspection_after(inspected_on: datetime.date, scrap_on: datetime.date) -> datetime.date:
    """After a pass: one interval on, but never beyond the scrap date (so an old cylinder's
    fourth inspection falls due after 3 years, at its scrap age)."""
    return min(add_years(inspected_on, parameters.get("lpg_inspection_interval_years")), scrap_on)
