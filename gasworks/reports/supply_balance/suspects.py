"""The suspect meters of a district (the drill-down of the supply–sales balance): the meters
behind a loss, each with the reasons it is listed, written for a station manager.

A customer meter of the district is listed when, for the months asked:
- it has an **open tamper alert** (reverse flow, an implausible jump, the device's own tamper
  or magnet alarm, repeated signature failures) raised before the months' end;
- it has **flagged** readings (waiting for review, not billed) or **estimated** ones (billed from
  history, not from the register) taken in those months;
- it shows **long zero use**: every billable reading of the last ``vee_zero_days`` days up to
  the months' end shows no consumption while the account is active;
- its use **dropped**: the billable volume of those months is below ``supply_drop_pct`` % of the
  same months last year (or, for a meter with no readings then, of the same number of months
  just before).
A current month counts up to now, and the months it is compared with are cut the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from gasworks.lib.dates import start_of_day
from gasworks.lib.money import round_money
from gasworks.reports.framework import month_bounds, periods_between, shift_period
from gasworks.reports.supply_balance import store
from gasworks.system import parameters

# Reasons, most serious first (the list is ranked by them).
TAMPER, DROP, ZERO_USE, FLAGGED, ESTIMATED = "tamper", "drop", "zero_use", "flagged", "estimated"
ORDER = (TAMPER, DROP, ZERO_USE, FLAGGED, ESTIMATED)
# A drop is judged only against a usage worth the name (m³ in the compared months).
MIN_BASE = Decimal("1")


@dataclass
class Suspect:
    meter_id: int
    serial_no: str = ""
    status: str = ""
    address: str = ""
    customer: object = None
    reasons: dict[str, str] = field(default_factory=dict)  # code -> why, in words
    volume: Decimal | None = None  # billable volume in the months asked
    compared: Decimal | None = None  # the volume it was compared with (drop)
    missing: Decimal = Decimal(0)  # how much less than compared, m³ (0 when not a drop)

    @property
    def codes(self) -> list[str]:
        return [code for code in ORDER if code in self.reasons]

    @property
    def listed(self) -> list[tuple[str, str]]:
        return [(code, self.reasons[code]) for code in self.codes]


def _bounds(period_from: str, period_to: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = start_of_day(month_bounds(period_from)[0])
    end = start_of_day(month_bounds(shift_period(period_to, 1))[0])
    return start, min(end, now)


def _year_back(at: dt.datetime) -> dt.datetime:
    local = timezone.localtime(at)
    try:
        back = local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        back = local.replace(year=local.year - 1, day=28)
    return back


def find(district: str, period_from: str, period_to: str, now: dt.datetime | None = None) -> list[Suspect]:
    """The district's suspect meters for the months [period_from, period_to], most suspect
    first (by how many reasons, tamper first, then by the volume missing)."""
    now = now or timezone.now()
    start, end = _bounds(period_from, period_to, now)
    if end <= start:
        return []
    found: dict[int, Suspect] = {}

    def suspect(meter_id: int) -> Suspect:
        return found.setdefault(meter_id, Suspect(meter_id))

    for alert in store.open_alerts(district, end):
        reasons = suspect(alert.meter_id).reasons
        text = _("Open tamper alert: %(kind)s, raised %(day)s. Inspect the meter and its seal.") % {
            "kind": alert.get_kind_display(),
            "day": timezone.localtime(alert.raised_at).strftime("%Y-%m-%d"),
        }
        reasons[TAMPER] = f"{reasons[TAMPER]} {text}" if TAMPER in reasons else text

    for meter_id, (flagged, estimated) in store.doubtful_readings(district, start, end).items():
        if flagged:
            suspect(meter_id).reasons[FLAGGED] = _(
                "%(n)d reading(s) flagged by validation and not yet decided: not billed until a "
                "person approves them."
            ) % {"n": flagged}
        if estimated:
            suspect(meter_id).reasons[ESTIMATED] = _(
                "%(n)d estimated reading(s): billed from the meter's history, not from its register."
            ) % {"n": estimated}

    zero_days = int(parameters.get("vee_zero_days"))
    for meter_id in store.zero_use(district, end - dt.timedelta(days=zero_days), end):
        suspect(meter_id).reasons[ZERO_USE] = _(
            "No consumption for %(days)d days although the account is active: a stopped or "
            "bypassed meter, or an empty home."
        ) % {"days": zero_days}

    months = len(periods_between(period_from, period_to))
    windows = {
        "now": (start, end),
        "last_year": (_year_back(start), _year_back(end)),
        "before": (start_of_day(month_bounds(shift_period(period_from, -months))[0]), start),
    }
    if end < start_of_day(month_bounds(shift_period(period_to, 1))[0]):  # a month in progress
        windows["before"] = (windows["before"][0], windows["before"][0] + (end - start))
    limit = Decimal(parameters.get("supply_drop_pct"))
    figures_of = store.volumes(district, windows)
    for meter_id, figures in figures_of.items():
        volume, readings = figures["now"]
        if not readings:
            continue
        base, base_readings = figures["last_year"]
        against = _("the same months last year")
        if not base_readings:
            base, base_readings = figures["before"]
            against = _("the %(n)d month(s) just before") % {"n": months}
        if not base_readings or base < MIN_BASE or volume * 100 >= base * limit:
            continue
        item = suspect(meter_id)
        item.compared, item.missing = base, base - volume
        item.reasons[DROP] = _(
            "Used %(now)s m³, %(pct)s %% of the %(base)s m³ of %(against)s (alarm below %(limit)s %%)."
        ) % {
            "now": volume,
            "pct": round_money(volume * 100 / base),
            "base": base,
            "against": against,
            "limit": limit,
        }

    if not found:
        return []
    facts = store.meter_facts(found)
    for meter_id, item in found.items():
        fact = facts.get(meter_id, {})
        item.serial_no, item.status = fact.get("serial_no", ""), fact.get("status", "")
        item.address, item.customer = fact.get("address", ""), fact.get("customer")
        item.volume = figures_of[meter_id]["now"][0] if meter_id in figures_of else None
    return sorted(
        found.values(),
        key=lambda s: (-len(s.reasons), TAMPER not in s.reasons, -s.missing, s.serial_no),
    )
