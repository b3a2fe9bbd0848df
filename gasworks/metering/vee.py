"""Validation (VEE) of one reading against the meter's state before it, without the database.

The services build a Baseline from the stored readings, call evaluate() and store the verdict;
batch paths (device ingest, file import) build the baseline once per meter and advance it in
memory with advance(), so thousands of readings cost a handful of queries.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from gasworks.lib.consumption import (
    ConsumptionError,
    corrected_volume,
    correction_factor,
    register_span,
    volume_used,
)
from gasworks.lib.money import round_volume
from gasworks.system import parameters
from gasworks.system.parameters import Spec

# Every rule code a reading can be flagged with, and what a person reads for it (the API keeps
# the codes).
RULE_LABELS = {
    "reverse": _("Reverse (register went backwards)"),
    "rollover_implausible": _("Implausible rollover"),
    "spike": _("Spike (far above usual use)"),
    "zero_long": _("No use for a long time"),
    "duplicate": _("Duplicate"),
    "out_of_order": _("Out of order (before the previous reading)"),
    "future_time": _("Time in the future"),
    "gap": _("Long gap since the last reading"),
}
RULES = tuple(RULE_LABELS)


def flag_labels(flags) -> list[str]:
    """The flags of a reading in the reader's language."""
    return [str(RULE_LABELS.get(f, f)) for f in flags or ()]


parameters.register(
    Spec(
        "vee_spike_factor",
        Decimal,
        Decimal("5"),
        _("Spike: times the meter's usual rate"),
        "metering",
        Decimal("1"),
    ),
    Spec(
        "vee_spike_min_m3",
        Decimal,
        Decimal("5"),
        _("Spike: ignore volumes below, m³"),
        "metering",
        Decimal("0"),
    ),
    Spec("vee_zero_days", int, 90, _("Zero consumption flagged after, days"), "metering", Decimal("1")),
    Spec("vee_gap_days", int, 62, _("Gap: days between readings flagged"), "metering", Decimal("1")),
    Spec("vee_future_minutes", int, 10, _("Clock skew tolerated, minutes ahead"), "metering", Decimal("0")),
    Spec(
        "vee_duplicate_minutes",
        int,
        10,
        _("Same value again within, minutes, is a duplicate"),
        "metering",
        Decimal("0"),
    ),
    Spec(
        "vee_rollover_zone",
        Decimal,
        Decimal("0.1"),
        _("Rollover believable when the previous value is in the top fraction of the register"),
        "metering",
        Decimal("0"),
    ),
    Spec("vee_history_size", int, 6, _("Readings used for the usual rate"), "metering", Decimal("2")),
    Spec(
        "vee_future_reject_hours",
        int,
        24,
        _("Readings further ahead than this many hours are refused as bad input"),
        "metering",
        Decimal("0"),
    ),
    Spec(
        "tamper_signature_failures",
        int,
        5,
        _("Signature failures in a row that raise a tamper alert"),
        "metering",
        Decimal("1"),
    ),
)


_THRESHOLD_KEYS = {
    "spike_factor": "vee_spike_factor",
    "spike_min_m3": "vee_spike_min_m3",
    "zero_days": "vee_zero_days",
    "gap_days": "vee_gap_days",
    "future_minutes": "vee_future_minutes",
    "future_reject_hours": "vee_future_reject_hours",
    "duplicate_minutes": "vee_duplicate_minutes",
    "rollover_zone": "vee_rollover_zone",
    "history_size": "vee_history_size",
}


def _parameters(keys) -> dict:
    """Current values of several parameters in one query (parameters.get costs one each)."""
    from gasworks.system.models import Parameter

    stored = dict(Parameter.objects.filter(key__in=list(keys)).values_list("key", "value"))
    out = {}
    for key in keys:
        spec = parameters.REGISTRY[key]
        try:
            out[key] = spec.default if key not in stored else parameters.parse(spec, stored[key])
        except parameters.ParameterError:
            out[key] = spec.default
    return out


@dataclass(frozen=True)
class Thresholds:
    spike_factor: Decimal = Decimal("5")
    spike_min_m3: Decimal = Decimal("5")
    zero_days: int = 90
    gap_days: int = 62
    future_minutes: int = 10
    future_reject_hours: int = 24
    duplicate_minutes: int = 10
    rollover_zone: Decimal = Decimal("0.1")
    history_size: int = 6

    @classmethod
    def current(cls, meter=None, general: "Thresholds | None" = None) -> "Thresholds":
        if general is None:
            values = _parameters(_THRESHOLD_KEYS.values())
            general = cls(**{name: values[key] for name, key in _THRESHOLD_KEYS.items()})
        if meter is not None and meter.spike_factor is not None:
            return replace(general, spike_factor=meter.spike_factor)
        return general

    # The intervals as timedeltas, computed once per Thresholds rather than once per reading.
    @cached_property
    def future(self) -> timedelta:
        return timedelta(minutes=self.future_minutes)

    @cached_property
    def duplicate(self) -> timedelta:
        return timedelta(minutes=self.duplicate_minutes)

    @cached_property
    def zero(self) -> timedelta:
        return timedelta(days=self.zero_days)

    @cached_property
    def gap(self) -> timedelta:
        return timedelta(days=self.gap_days)


@dataclass
class Baseline:
    """What the meter looked like just before the new reading."""

    value: Decimal  # previous billable register value (the initial reading if none)
    at: datetime  # its time (the install date's start if none)
    estimated: bool = False  # the previous billable reading is an estimate
    real_value: Decimal | None = None  # last real (not estimated) billable value
    latest_at: datetime | None = None  # newest stored, not rejected reading of any status
    latest_value: Decimal | None = None
    last_change_at: datetime | None = None  # the register last moved here
    rate_per_hour: Decimal | None = None  # usual consumption rate from history
    # (taken_at, consumption) of the newest billable readings, newest first, at most `keep`
    # (vee_history_size + 1): batch paths roll it forward so the usual rate stays current.
    history: list = field(default_factory=list)
    keep: int = 7


class Verdict(NamedTuple):  # a tuple: built once per reading on the batch paths, cheaply
    flags: list
    consumption: Decimal | None
    rolled_over: bool = False
    jump: bool = False  # more than the meter's rated flow could pass: a tamper sign
    true_up: bool = False

    @property
    def billable(self) -> bool:
        return not self.flags


_ZERO, _ONE, _HOUR, _MILLI = Decimal(0), Decimal(1), Decimal(3600), Decimal("0.001")


def _hours(later: datetime, earlier: datetime) -> Decimal:
    return Decimal((later - earlier).total_seconds()) / _HOUR


@lru_cache(maxsize=16)
def _span(digits: int) -> Decimal:
    return register_span(digits)


def evaluate(
    digits: int,
    max_flow_m3h: Decimal,
    base: Baseline,
    value: Decimal,
    taken_at: datetime,
    now: datetime,
    th: Thresholds,
) -> Verdict:
    """Flags and consumption of a reading. Raises ConsumptionError for a value the register cannot
    show (negative or beyond its digits): that is bad input, not a reading to keep."""
    span = _span(digits)
    if value < 0 or value >= span:
        raise ConsumptionError("reading_out_of_range", f"{value} is outside the register range 0 to {span}")
    flags: list[str] = []
    if taken_at > now + th.future:
        flags.append("future_time")
    if base.latest_at is not None and taken_at <= base.latest_at:
        # Older than what we already hold: not part of the chain until a person decides.
        flags.append("out_of_order")
        return Verdict(flags, None)
    if (
        base.latest_at is not None
        and base.latest_value == value
        and taken_at - base.latest_at <= th.duplicate
    ):
        flags.append("duplicate")
    hours = max(_hours(taken_at, base.at), _ZERO)
    # The most gas the meter can pass in the elapsed time (at least one hour, for clock jitter).
    physical = max_flow_m3h * max(hours, _ONE)
    consumption: Decimal | None
    rolled_over = jump = true_up = False
    if _ZERO <= base.value <= value:
        # The common case, volume_used's forward branch without its generic checks (nor its
        # result object): the difference of two register values, at 0.001 like every volume.
        result = None
        consumption = (value - base.value).quantize(_MILLI, ROUND_HALF_UP)
    else:
        # A wrap is believable only within what the meter could pass, and never above a tenth of
        # the register (a long absence must not turn a backwards step into a near-full rollover).
        result = volume_used(base.value, value, digits=digits, max_plausible=min(physical, span / 10))
    if result is None:
        true_up = base.estimated
    elif result.reverse:
        if base.estimated and base.real_value is not None and value >= base.real_value:
            # The estimate ran ahead of the meter: the real reading trues it up (negative volume).
            consumption, true_up = result.volume, True
        elif base.value >= span * (1 - th.rollover_zone):
            flags.append("rollover_implausible")
            consumption = None
        else:
            flags.append("reverse")
            consumption = result.volume
    else:
        consumption, rolled_over = result.volume, result.rolled_over
        true_up = base.estimated
    if consumption is not None and consumption > 0:
        if consumption > physical:
            flags.append("spike")
            jump = True
        elif (
            base.rate_per_hour
            and consumption > th.spike_min_m3
            and consumption > th.spike_factor * base.rate_per_hour * max(hours, _ONE)
        ):
            flags.append("spike")
    zero_since = base.last_change_at
    if consumption == 0 and zero_since is not None and taken_at - zero_since >= th.zero:
        flags.append("zero_long")
    if taken_at - base.at > th.gap:
        flags.append("gap")
    return Verdict(flags, consumption, rolled_over, jump, true_up)


def usual_rate(history: list) -> Decimal | None:
    """m³ per hour over the newest billable readings ((taken_at, consumption), newest first):
    the volume of all but the oldest over the time they span; None below three readings."""
    if len(history) < 3:
        return None
    used = sum((consumption or _ZERO) for _at, consumption in history[:-1])
    hours = _hours(history[0][0], history[-1][0])
    return used / hours if used > 0 and hours > 0 else None


def advance(base: Baseline, value: Decimal, taken_at: datetime, verdict: Verdict, billable: bool) -> None:
    """Move the baseline past a reading just stored (batch paths), so the next reading of the
    batch is judged exactly as if the database had been read again."""
    if verdict.flags and "out_of_order" in verdict.flags:
        return
    base.latest_at, base.latest_value = taken_at, value
    if billable:
        base.value, base.at, base.estimated, base.real_value = value, taken_at, False, value
        if verdict.consumption:
            base.last_change_at = taken_at
        base.history.insert(0, (taken_at, verdict.consumption))
        del base.history[base.keep :]
        base.rate_per_hour = usual_rate(base.history)


def correction(
    meter, consumption: Decimal | None, pressure_kpa, temperature_c, base_conditions
) -> Decimal | None:
    """Volume at base conditions: the meter's fixed factor, else P/T sent with the reading."""
    if consumption is None:
        return None
    if meter.correction_factor is not None:
        return corrected_volume(consumption, meter.correction_factor)
    if pressure_kpa is None or temperature_c is None:
        return None
    atmospheric, base_p, base_t = base_conditions
    factor = correction_factor(
        pressure_kpa,
        temperature_c,
        atmospheric_kpa=atmospheric,
        base_pressure_kpa=base_p,
        base_temperature_c=base_t,
    )
    return round_volume(consumption * factor)


def base_conditions() -> tuple:
    return (
        parameters.get("atmospheric_pressure_kpa"),
        parameters.get("base_pressure_kpa"),
        parameters.get("base_temperature_c"),
    )
