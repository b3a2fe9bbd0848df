"""Consumption arithmetic: meter volumes, LPG masses, correction to base conditions.

Pure functions of Decimal values; the metering app decides which readings to feed in.
"""

from dataclasses import dataclass
from decimal import Decimal, localcontext

from gasworks.lib.money import DecimalLike, round_volume, to_decimal

ABSOLUTE_ZERO_C = Decimal("-273.15")
KELVIN_OFFSET = Decimal("273.15")
# GB/T 19205 trade base conditions: 101.325 kPa, 20 °C.
STANDARD_PRESSURE_KPA = Decimal("101.325")
STANDARD_TEMPERATURE_C = Decimal("20")
# The factor is one division at this many significant digits, independent of the caller's
# decimal context, so the same inputs always give the same factor.
FACTOR_PRECISION = 28


class ConsumptionError(ValueError):
    """A reading or weighing that cannot yield a consumption; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VolumeResult:
    """Volume between two register readings (m³, 3 decimals).

    ``rolled_over``: the register passed 10**digits and restarted at zero.
    ``reverse``: the register went backwards; ``volume`` is negative and is an anomaly
    for validation to flag, never something to bill.
    """

    volume: Decimal
    rolled_over: bool
    reverse: bool


def register_span(digits: int) -> Decimal:
    """The value at which a register of ``digits`` integer digits rolls over to zero."""
    if digits < 1:
        raise ConsumptionError("invalid_digits", f"a register needs at least 1 digit, got {digits}")
    return Decimal(10) ** digits


def default_max_plausible(digits: int) -> Decimal:
    """Largest volume accepted as a rollover when the caller gives no limit: 10**digits / 10.

    A register is sized so one billing period uses a small part of its range; a tenth of the
    range (10 000 m³ on a 5-digit register) is far above any real period, while a backwards
    step of a few m³ (a swapped or mistyped reading) would otherwise pass as a near-full
    rollover. Callers that know the meter's rated flow should pass ``max_plausible``.
    """
    return register_span(digits) / 10


def volume_used(
    previous: DecimalLike,
    current: DecimalLike,
    digits: int = 5,
    max_plausible: DecimalLike | None = None,
) -> VolumeResult:
    """V = V1 − V0, allowing for the register rolling over at 10**digits.

    When V1 < V0, V1 + 10**digits − V0 is a rollover only if it is ≤ ``max_plausible``
    (default: see ``default_max_plausible``); otherwise the reading went backwards and the
    result is reverse with the negative V1 − V0.
    """
    span = register_span(digits)
    v0 = _reading(previous, span, "previous")
    v1 = _reading(current, span, "current")
    if v1 >= v0:
        return VolumeResult(round_volume(v1 - v0), rolled_over=False, reverse=False)
    limit = default_max_plausible(digits) if max_plausible is None else to_decimal(max_plausible)
    wrapped = v1 + span - v0
    if wrapped <= limit:
        return VolumeResult(round_volume(wrapped), rolled_over=True, reverse=False)
    return VolumeResult(round_volume(v1 - v0), rolled_over=False, reverse=True)


def _reading(value: DecimalLike, span: Decimal, name: str) -> Decimal:
    # A register cannot show a negative value or one at/above its span; such a number is a
    # typing or decoding error, not a consumption.
    reading = to_decimal(value)
    if reading < 0 or reading >= span:
        raise ConsumptionError(
            "reading_out_of_range",
            f"{name} reading {reading} is outside the register range 0 to {span}",
        )
    return reading


def volume_across_replacement(
    old_previous: DecimalLike,
    old_final: DecimalLike,
    new_initial: DecimalLike,
    new_current: DecimalLike,
    old_digits: int = 5,
    new_digits: int = 5,
) -> Decimal:
    """Volume of a period in which the meter was replaced: old part plus new part.

    Each part follows the rollover rule of its own register. A reverse part raises
    ConsumptionError("reverse_reading") instead of silently lowering the sum.
    """
    parts = (
        volume_used(old_previous, old_final, digits=old_digits),
        volume_used(new_initial, new_current, digits=new_digits),
    )
    for label, part in zip(("old meter", "new meter"), parts, strict=True):
        if part.reverse:
            raise ConsumptionError(
                "reverse_reading", f"the {label} reading went backwards by {-part.volume} m³"
            )
    return parts[0].volume + parts[1].volume


def mass_used(m0: DecimalLike, m1: DecimalLike) -> Decimal:
    """M = M1 − M0 in kg; a negative mass cannot be consumption."""
    mass = to_decimal(m1) - to_decimal(m0)
    if mass < 0:
        raise ConsumptionError("negative_mass", f"mass went from {m0} kg down to {m1} kg")
    return mass


def net_fill(gross: DecimalLike, tare: DecimalLike, rated_fill: DecimalLike) -> Decimal:
    """Net LPG filled = gross − tare (kg); never above the cylinder's rated fill."""
    gross_kg, tare_kg, rated_kg = to_decimal(gross), to_decimal(tare), to_decimal(rated_fill)
    if rated_kg <= 0:
        raise ConsumptionError("invalid_rated_fill", f"rated fill must be positive, got {rated_kg}")
    if tare_kg < 0:
        raise ConsumptionError("negative_mass", f"tare cannot be negative, got {tare_kg} kg")
    if gross_kg < tare_kg:
        raise ConsumptionError("gross_below_tare", f"gross {gross_kg} kg is below the tare {tare_kg} kg")
    net = gross_kg - tare_kg
    if net > rated_kg:
        raise ConsumptionError("overfill", f"net fill {net} kg is above the rated fill {rated_kg} kg")
    return net


def customer_lpg_use(net_filled: DecimalLike, residual_returned: DecimalLike) -> Decimal:
    """LPG used by a customer = net filled − residual in the returned cylinder (kg)."""
    net, residual = to_decimal(net_filled), to_decimal(residual_returned)
    if net < 0 or residual < 0:
        raise ConsumptionError("negative_mass", "net fill and residual cannot be negative")
    if residual > net:
        raise ConsumptionError(
            "residual_above_fill", f"residual {residual} kg is more than the fill {net} kg"
        )
    return net - residual


def correction_factor(
    pressure_gauge_kpa: DecimalLike,
    temperature_c: DecimalLike,
    atmospheric_kpa: DecimalLike = STANDARD_PRESSURE_KPA,
    base_pressure_kpa: DecimalLike = STANDARD_PRESSURE_KPA,
    base_temperature_c: DecimalLike = STANDARD_TEMPERATURE_C,
    z_base: DecimalLike = Decimal("1"),
    z_measured: DecimalLike = Decimal("1"),
) -> Decimal:
    """Vb / Vm = (Pm / Pb) · (Tb / Tm) · (Zb / Zm), absolute pressures and kelvin.

    Pm = gauge + atmospheric. Computed as one division of two exact products, at
    FACTOR_PRECISION significant digits, so the result is reproducible to the last digit.
    """
    pm = to_decimal(pressure_gauge_kpa) + to_decimal(atmospheric_kpa)
    pb = to_decimal(base_pressure_kpa)
    tm = _kelvin(temperature_c, "measured")
    tb = _kelvin(base_temperature_c, "base")
    zb, zm = to_decimal(z_base), to_decimal(z_measured)
    for name, value in (("absolute pressure", pm), ("base pressure", pb), ("Zb", zb), ("Zm", zm)):
        if value <= 0:
            raise ConsumptionError("invalid_conditions", f"{name} must be positive, got {value}")
    with localcontext() as ctx:
        ctx.prec = FACTOR_PRECISION
        return (pm * tb * zb) / (pb * tm * zm)


def _kelvin(celsius: DecimalLike, name: str) -> Decimal:
    value = to_decimal(celsius)
    if value <= ABSOLUTE_ZERO_C:
        raise ConsumptionError(
            "invalid_conditions", f"{name} temperature {value} °C is at or below absolute zero"
        )
    return value + KELVIN_OFFSET


def corrected_volume(volume: DecimalLike, factor: DecimalLike) -> Decimal:
    """Volume at base conditions, rounded half-up to 3 decimals."""
    return round_volume(to_decimal(volume) * to_decimal(factor))
