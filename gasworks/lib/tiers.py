"""Tiered (阶梯) gas pricing, charged progressively on the excess.

Thresholds are cumulative m³ within a tariff year. A bill's volume is placed on top of what
the account already used earlier in that year, and each tier charges only the part that
falls inside it. A flat tariff is a single unbounded tier.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from itertools import pairwise

from gasworks.lib.money import DecimalLike, round_money, round_volume, to_decimal

ZERO = Decimal("0")


class TariffError(ValueError):
    """A tariff or billing input that cannot be priced; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Tier:
    """Price per m³ up to ``up_to`` m³ of cumulative use in the year (None: no bound)."""

    up_to: Decimal | None
    price: Decimal

    def __post_init__(self) -> None:
        # Coerce through to_decimal so a float threshold or price is refused here.
        if self.up_to is not None:
            object.__setattr__(self, "up_to", to_decimal(self.up_to))
        object.__setattr__(self, "price", to_decimal(self.price))


@dataclass(frozen=True)
class PriceVersion:
    """A set of tiers that applies from ``effective_from`` until the next version."""

    effective_from: date
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(self.tiers))
        validate_tiers(self.tiers)


@dataclass(frozen=True)
class TierLine:
    """One tier's share of a volume: what ``split_by_tiers`` returns."""

    tier: int  # 1-based
    volume: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class BillLine:
    """One printed bill line: tier, volume, unit price, amount and the price version."""

    tier: int  # 1-based
    volume: Decimal
    unit_price: Decimal
    amount: Decimal
    effective_from: date


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Raise TariffError unless the tiers form a complete, increasing ladder."""
    if not tiers:
        raise TariffError("no_tiers", "a tariff needs at least one tier")
    for number, tier in enumerate(tiers, start=1):
        if tier.price < 0:
            raise TariffError("negative_price", f"tier {number} has a negative price {tier.price}")
        if tier.up_to is None and number != len(tiers):
            raise TariffError("unbounded_tier_not_last", f"tier {number} has no upper bound but is not last")
        if tier.up_to is not None and tier.up_to <= 0:
            raise TariffError(
                "non_positive_threshold", f"tier {number} threshold {tier.up_to} is not positive"
            )
    if tiers[-1].up_to is not None:
        raise TariffError("last_tier_bounded", "the last tier must have no upper bound")
    bounds = [tier.up_to for tier in tiers[:-1]]
    for number, (lower, upper) in enumerate(pairwise(bounds), start=2):
        if lower is not None and upper is not None and upper <= lower:
            raise TariffError(
                "thresholds_not_increasing",
                f"tier {number} threshold {upper} is not above the previous {lower}",
            )


def flat_tiers(price: DecimalLike) -> tuple[Tier, ...]:
    """A flat price per m³ (commercial, industrial) as a one-tier tariff."""
    return (Tier(None, to_decimal(price)),)


def scale_thresholds(tiers: Sequence[Tier], factor: DecimalLike) -> tuple[Tier, ...]:
    """Multiply every threshold by ``factor`` (e.g. for a large household), to 3 decimals.

    Which households get which factor is a caller's rule, not this module's.
    """
    scale = to_decimal(factor)
    if scale <= 0:
        raise TariffError("invalid_factor", f"threshold factor must be positive, got {scale}")
    return tuple(Tier(None if t.up_to is None else round_volume(t.up_to * scale), t.price) for t in tiers)


def split_by_tiers(prior_volume: DecimalLike, volume: DecimalLike, tiers: Sequence[Tier]) -> list[TierLine]:
    """Split ``volume`` across tiers, stacked on ``prior_volume`` used earlier in the year.

    Volumes are taken at 3 decimals. Each line's amount is volume × price rounded once,
    half-up to 0.01. Tiers the volume does not reach are left out, so a zero volume gives
    no lines.
    """
    validate_tiers(tiers)
    start = round_volume(_non_negative(prior_volume, "prior volume"))
    used = round_volume(_non_negative(volume, "volume"))
    end = start + used
    lines: list[TierLine] = []
    lower = ZERO
    for number, tier in enumerate(tiers, start=1):
        top = end if tier.up_to is None else min(end, tier.up_to)
        portion = top - max(start, lower)
        if portion > 0:
            lines.append(TierLine(number, portion, tier.price, round_money(portion * tier.price)))
        if tier.up_to is None or tier.up_to >= end:
            break
        lower = tier.up_to
    return lines


def volume_for_amount(prior_volume: DecimalLike, amount: DecimalLike, tiers: Sequence[Tier]) -> Decimal:
    """The gas ``amount`` of money buys on top of ``prior_volume`` (prepaid IC-card top-ups):
    the inverse of split_by_tiers, rounded down to 0.001 m³ so the customer never gets gas
    that the money does not cover once each line is rounded half-up."""
    validate_tiers(tiers)
    start = round_volume(_non_negative(prior_volume, "prior volume"))
    money = _non_negative(amount, "amount")
    bought = ZERO
    lower = ZERO
    for tier in tiers:
        if tier.price == 0:
            raise TariffError("free_tier", "a tier with price 0 makes any amount buy unlimited gas")
        floor = max(start + bought, lower)
        if tier.up_to is not None and floor >= tier.up_to:
            lower = tier.up_to
            continue
        affordable = (money / tier.price).quantize(Decimal("0.001"), rounding=ROUND_DOWN)
        if tier.up_to is not None and affordable >= tier.up_to - floor:
            room = tier.up_to - floor
            bought += room
            money -= room * tier.price
            lower = tier.up_to
            continue
        bought += affordable
        break
    # Per-line half-up rounding can push the priced total a cent above the money: step back.
    while bought > 0 and sum(
        (line.amount for line in split_by_tiers(start, bought, tiers)), ZERO
    ) > to_decimal(amount):
        bought -= Decimal("0.001")
    return bought


def _non_negative(value: DecimalLike, name: str) -> Decimal:
    number = to_decimal(value)
    if number < 0:
        code = "negative_" + name.replace(" ", "_")
        raise TariffError(code, f"{name} cannot be negative, got {number}")
    return number


PriorUse = Callable[[date], DecimalLike] | Mapping[date, DecimalLike]


def bill_period(
    period_start: date,
    period_end_exclusive: date,
    volume: DecimalLike,
    prior_volume_by_year: PriorUse,
    versions: Sequence[PriceVersion],
    year_start_month: int = 1,
    year_start_day: int = 1,
) -> list[BillLine]:
    """Price ``volume`` used over [period_start, period_end_exclusive).

    Segments: the period is cut wherever a price version takes effect or a tariff year
    starts inside it. The volume (rounded to 3 decimals) is apportioned to segments by
    days: the cumulative share at each cut is rounded half-up to 3 decimals and each segment
    takes the difference, so the last segment takes the remainder, no segment is negative,
    and segment volumes sum exactly to the volume.

    Tiering: each segment is split by tiers with its own version, on top of the prior use of
    its own tariff year. ``prior_volume_by_year`` gives that prior use keyed by the tariff
    year's first day (a mapping, missing years count as 0, or a callable); within the
    period, a later segment of the same year adds the earlier segments' volumes to it, and
    a new tariff year starts again from its own prior use.

    Zero-volume lines are dropped, so a zero-volume bill has no lines (the caller adds any
    minimum charge with ``apply_minimum``).
    """
    if period_end_exclusive <= period_start:
        raise TariffError("empty_period", "the period must end after it starts")
    ordered = _ordered_versions(versions)
    _year_start(period_start, year_start_month, year_start_day)  # refuse a bad year start early
    cuts = _cuts(period_start, period_end_exclusive, ordered, year_start_month, year_start_day)
    prior_of = _prior_lookup(prior_volume_by_year)
    used_in_year: dict[date, Decimal] = {}
    lines: list[BillLine] = []
    for seg_start, seg_volume in zip(cuts, apportion_by_days(volume, cuts), strict=False):
        year = _year_start(seg_start, year_start_month, year_start_day)
        if year not in used_in_year:
            used_in_year[year] = _non_negative(prior_of(year), "prior volume")
        version = _version_at(ordered, seg_start)
        for line in split_by_tiers(used_in_year[year], seg_volume, version.tiers):
            lines.append(
                BillLine(line.tier, line.volume, line.unit_price, line.amount, version.effective_from)
            )
        used_in_year[year] += seg_volume
    return lines


def apportion_by_days(volume: DecimalLike, boundaries: Sequence[date]) -> list[Decimal]:
    """Split ``volume`` over the segments between consecutive ``boundaries`` by days.

    The cumulative share at each boundary is rounded half-up to 3 decimals and each segment
    takes the difference, so the segments telescope to exactly the (3-decimal) volume, the
    last one takes the remainder, and none is negative.
    """
    total = round_volume(_non_negative(volume, "volume"))
    if len(boundaries) < 2 or any(b <= a for a, b in pairwise(boundaries)):
        raise TariffError("empty_period", "segment boundaries must be strictly increasing")
    first = boundaries[0]
    days = (boundaries[-1] - first).days
    cumulative = [round_volume(total * (day - first).days / days) for day in boundaries]
    return [later - earlier for earlier, later in pairwise(cumulative)]


def _ordered_versions(versions: Iterable[PriceVersion]) -> list[PriceVersion]:
    ordered = sorted(versions, key=lambda v: v.effective_from)
    if not ordered:
        raise TariffError("no_price_version", "no price version given")
    for earlier, later in pairwise(ordered):
        if earlier.effective_from == later.effective_from:
            raise TariffError(
                "duplicate_version", f"two price versions take effect on {later.effective_from}"
            )
    return ordered


def _version_at(ordered: Sequence[PriceVersion], day: date) -> PriceVersion:
    current = None
    for version in ordered:
        if version.effective_from <= day:
            current = version
    if current is None:
        raise TariffError("no_price_version", f"no price version is in effect on {day}")
    return current


def _year_start(day: date, month: int, first_day: int) -> date:
    """First day of the tariff year containing ``day``."""
    try:
        start = date(day.year, month, first_day)
        date(2001, month, first_day)  # must exist in every year: refuse 29 February
    except ValueError:
        raise TariffError(
            "invalid_year_start", f"{month}-{first_day} is not a valid tariff year start"
        ) from None
    return start if start <= day else start.replace(year=day.year - 1)


def _cuts(start: date, end: date, ordered: Sequence[PriceVersion], month: int, first_day: int) -> list[date]:
    """Segment boundaries: the period ends plus every version or year start inside it."""
    inside = {v.effective_from for v in ordered if start < v.effective_from < end}
    for year in range(start.year, end.year + 1):
        boundary = date(year, month, first_day)
        if start < boundary < end:
            inside.add(boundary)
    return [start, *sorted(inside), end]


def _prior_lookup(prior: PriorUse) -> Callable[[date], DecimalLike]:
    if isinstance(prior, Mapping):
        return lambda year: prior.get(year, ZERO)
    return prior


def apply_minimum(lines_total: DecimalLike, minimum: DecimalLike) -> Decimal:
    """Amount to add so a bill reaches its minimum charge (0.00 when already above it)."""
    total, floor = to_decimal(lines_total), to_decimal(minimum)
    if floor < 0:
        raise TariffError("negative_minimum", f"minimum charge cannot be negative, got {floor}")
    return round_money(max(floor - total, ZERO))
