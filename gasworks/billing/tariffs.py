"""Tariffs: creating them (validated, all or nothing) and pricing a period's volume.

Pricing rule (shown on the tariff page): the period's volume is placed on top of what the
account already used earlier in the tariff year and charged progressively on the excess. A
period that spans a price change or the start of a tariff year is split by days; each part is
priced with its own price version on top of its own year's prior use. Each line is rounded
once, half-up to 0.01 CNY; a minimum monthly charge tops the lines up; meter rent is added.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gasworks.billing.models import PriceVersion, Tariff, TariffTier
from gasworks.customers.models import Category, GasUse
from gasworks.errors import DomainError, InvalidInput
from gasworks.lib import decimals
from gasworks.lib import tiers as tiermath
from gasworks.lib.money import round_money, to_decimal
from gasworks.system import audit, parameters


@dataclass(frozen=True)
class PricedLine:
    tier: int
    volume: Decimal
    unit_price: Decimal
    amount: Decimal
    effective_from: date
    tariff_year: date


@dataclass
class PricedBill:
    lines: list[PricedLine]
    minimum_top_up: Decimal
    meter_rent: Decimal

    @property
    def total(self) -> Decimal:
        return (
            sum((line.amount for line in self.lines), Decimal("0.00")) + self.minimum_top_up + self.meter_rent
        )


def _tier_error(exc: tiermath.TariffError) -> InvalidInput:
    return InvalidInput(exc.code, exc.message, fields={"tiers": [exc.message]})


def _check_columns(number: int, tier: tiermath.Tier) -> None:
    """A tier's threshold and price fit TariffTier's columns exactly (5 decimals are refused,
    not rounded; 1e30 is refused, not stored to break every read)."""
    for name, value in (("up_to", tier.up_to), ("price", tier.price)):
        problem = None if value is None else decimals.input_error(value, **decimals.limits(TariffTier, name))
        if problem is not None:
            message = _("Tier %(n)s, %(field)s: %(problem)s") % {
                "n": number,
                "field": name,
                "problem": problem,
            }
            raise InvalidInput("invalid_tier", message, fields={"tiers": [message]})


def parse_tiers(raw_tiers) -> tuple[tiermath.Tier, ...]:
    """API/form input [{"up_to": "350"|null, "price": "2.61"}, ...] to validated Tiers."""
    if not isinstance(raw_tiers, list | tuple) or not raw_tiers:
        raise InvalidInput(
            "no_tiers", _("A tariff needs at least one tier."), fields={"tiers": [_("Required.")]}
        )
    result = []
    for number, raw in enumerate(raw_tiers, start=1):
        try:
            up_to = raw.get("up_to")
            price = to_decimal(str(raw["price"]))
            result.append(tiermath.Tier(None if up_to in (None, "") else to_decimal(str(up_to)), price))
        except (AttributeError, KeyError, TypeError, ValueError):
            message = _("Tier %(n)s needs a number for up_to (or null) and a price.") % {"n": number}
            raise InvalidInput("invalid_tier", message, fields={"tiers": [message]}) from None
        _check_columns(number, result[-1])
    try:
        tiermath.validate_tiers(result)
    except tiermath.TariffError as exc:
        raise _tier_error(exc) from None
    return tuple(result)


def create_tariff(
    name: str,
    category: str,
    effective_from: date,
    tiers,
    gas_use: str = "",
    minimum_charge: Decimal | str = "0",
    meter_rent: Decimal | str = "0",
) -> Tariff:
    """Create the tariff of (category, gas_use) with its first price version, or add a price
    version to the existing one. Invalid input raises InvalidInput and writes nothing."""
    if category not in Category.values:
        raise InvalidInput(
            "invalid_category", _("Unknown category."), fields={"category": [_("Unknown category.")]}
        )
    if gas_use and gas_use not in GasUse.values:
        raise InvalidInput(
            "invalid_gas_use", _("Unknown gas use."), fields={"gas_use": [_("Unknown gas use.")]}
        )
    if not name or not name.strip():
        raise InvalidInput("name_required", _("Give the tariff a name."), fields={"name": [_("Required.")]})
    parsed = parse_tiers(tiers) if not isinstance(tiers, tuple) else tiers
    minimum, rent = round_money(minimum_charge), round_money(meter_rent)
    if minimum < 0 or rent < 0:
        raise InvalidInput("negative_charge", _("Minimum charge and meter rent cannot be negative."))
    try:
        with transaction.atomic():
            tariff, created = Tariff.objects.select_for_update().get_or_create(
                category=category,
                gas_use=gas_use,
                defaults={"name": name.strip(), "minimum_charge": minimum, "meter_rent": rent},
            )
            if not created:
                tariff.name = name.strip()
                tariff.minimum_charge, tariff.meter_rent = minimum, rent
                tariff.save(update_fields=["name", "minimum_charge", "meter_rent"])
            version = PriceVersion.objects.create(tariff=tariff, effective_from=effective_from)
            TariffTier.objects.bulk_create(
                TariffTier(version=version, number=n, up_to=t.up_to, price=t.price)
                for n, t in enumerate(parsed, start=1)
            )
            tiers = [f"≤ {t.up_to} m³: ¥{t.price}" if t.up_to else f"¥{t.price}" for t in parsed]
            audit.record("update", version, None, {"tiers": tiers}, note="prices added")
    except IntegrityError:
        raise DomainError(
            "duplicate_price_version",
            _("This tariff already has prices taking effect on %(day)s.") % {"day": effective_from},
            fields={"effective_from": [_("Already used.")]},
        ) from None
    return tariff


@dataclass
class TariffSpec:
    """A tariff loaded once per run: its versions as pure PriceVersions, scaled per household."""

    tariff_id: int
    versions: tuple[tiermath.PriceVersion, ...]
    minimum_charge: Decimal
    meter_rent: Decimal
    household_scaling: bool
    year_start: tuple[int, int]
    _scaled: dict = field(default_factory=dict)

    def versions_for(self, factor: Decimal) -> tuple[tiermath.PriceVersion, ...]:
        if factor == 1 or not self.household_scaling:
            return self.versions
        if factor not in self._scaled:
            self._scaled[factor] = tuple(
                tiermath.PriceVersion(v.effective_from, tiermath.scale_thresholds(v.tiers, factor))
                for v in self.versions
            )
        return self._scaled[factor]

    def year_of(self, day: date) -> date:
        month, first = self.year_start
        start = date(day.year, month, first)
        return start if start <= day else start.replace(year=day.year - 1)


def load_specs() -> dict[tuple[str, str], TariffSpec]:
    """Every tariff with its versions and tiers, keyed by (category, gas_use); 3 queries."""
    tiers_by_version: dict[int, list[tiermath.Tier]] = {}
    for t in TariffTier.objects.order_by("version_id", "number"):
        tiers_by_version.setdefault(t.version_id, []).append(tiermath.Tier(t.up_to, t.price))
    versions: dict[int, list[tiermath.PriceVersion]] = {}
    for v in PriceVersion.objects.order_by("tariff_id", "effective_from"):
        if v.pk in tiers_by_version:
            versions.setdefault(v.tariff_id, []).append(
                tiermath.PriceVersion(v.effective_from, tuple(tiers_by_version[v.pk]))
            )
    return {
        (t.category, t.gas_use): TariffSpec(
            t.pk,
            tuple(versions.get(t.pk, ())),
            t.minimum_charge,
            t.meter_rent,
            t.household_scaling,
            (t.year_start_month, t.year_start_day),
        )
        for t in Tariff.objects.all()
    }


def spec_for(specs: dict, category: str, gas_use: str) -> TariffSpec | None:
    return specs.get((category, gas_use)) or specs.get((category, ""))


def household_factor(category: str, household_size: int, base: int, ratio: Decimal) -> Decimal:
    """Quota multiplier: +ratio per person above the base size (residential only)."""
    if category != Category.RESIDENTIAL or household_size <= base:
        return Decimal(1)
    return 1 + (household_size - base) * ratio


def household_rule() -> tuple[int, Decimal]:
    return int(parameters.get("household_base_size")), Decimal(parameters.get("household_extra_person_ratio"))


def price_period(
    spec: TariffSpec,
    factor: Decimal,
    start: date,
    end: date,
    volume: Decimal,
    prior_by_year: dict[date, Decimal],
) -> PricedBill:
    """Price ``volume`` used over [start, end) on top of the prior use of each tariff year."""
    versions = spec.versions_for(factor)
    if not versions:
        raise tiermath.TariffError("no_price_version", "the tariff has no prices")
    inside = [v for v in versions if start < v.effective_from < end]
    boundary = spec.year_of(end)
    if not inside and not start < boundary < end:
        # The common case: one price version and one tariff year over the whole period, so
        # the split by days has a single part; split_by_tiers alone gives the same lines.
        version = next((v for v in reversed(versions) if v.effective_from <= start), None)
        if version is None:
            raise tiermath.TariffError("no_price_version", f"no price version is in effect on {start}")
        year = spec.year_of(start)
        priced = [
            PricedLine(line.tier, line.volume, line.unit_price, line.amount, version.effective_from, year)
            for line in tiermath.split_by_tiers(prior_by_year.get(year, 0), volume, version.tiers)
        ]
        lines_total = sum((line.amount for line in priced), Decimal("0.00"))
        return PricedBill(priced, tiermath.apply_minimum(lines_total, spec.minimum_charge), spec.meter_rent)
    cuts = [start]
    if start < boundary < end:
        cuts.append(boundary)
    cuts.append(end)
    parts = tiermath.apportion_by_days(volume, cuts) if len(cuts) > 2 else [volume]
    lines: list[PricedLine] = []
    month, first = spec.year_start
    for seg_start, seg_end, seg_volume in zip(cuts, cuts[1:], parts, strict=False):
        year = spec.year_of(seg_start)
        for line in tiermath.bill_period(
            seg_start, seg_end, seg_volume, {year: prior_by_year.get(year, 0)}, versions, month, first
        ):
            lines.append(
                PricedLine(line.tier, line.volume, line.unit_price, line.amount, line.effective_from, year)
            )
    lines_total = sum((line.amount for line in lines), Decimal("0.00"))
    return PricedBill(lines, tiermath.apply_minimum(lines_total, spec.minimum_charge), spec.meter_rent)


class Pricer:
    """Prices many accounts over one period. A price depends only on the tariff, the quota
    factor, the volume and the prior use, and most accounts share a tariff, a household factor
    and (at the start of a year) no prior use, so each distinct combination is priced once with
    price_period and remembered; (category, gas use, household size) resolves to a tariff and a
    factor once too. Results are shared: callers must not change them."""

    def __init__(self, specs: dict, start: date, end: date, limit: int = 200_000) -> None:
        self.specs, self.start, self.end, self.limit = specs, start, end, limit
        self.base, self.ratio = household_rule()
        self._who: dict[tuple, tuple] = {}
        self._priced: dict[tuple, tuple] = {}

    def tariff_of(self, category: str, gas_use: str, household_size: int) -> tuple:
        """(TariffSpec or None, quota factor) for an account."""
        key = (category, gas_use, household_size)
        found = self._who.get(key)
        if found is None:
            spec = spec_for(self.specs, category, gas_use)
            factor = (
                household_factor(category, household_size, self.base, self.ratio)
                if spec is not None and spec.household_scaling
                else Decimal(1)
            )
            found = self._who[key] = (spec, factor)
        return found

    def price(self, spec: TariffSpec, factor: Decimal, volume: Decimal, prior_by_year: dict) -> tuple:
        """(PricedBill, its total, its lines as (tier, volume, unit price, amount, effective
        from, tariff year) tuples) for ``volume`` on top of ``prior_by_year``; raises TariffError."""
        key = (spec.tariff_id, factor, volume, tuple(sorted(prior_by_year.items())) if prior_by_year else ())
        hit = self._priced.get(key)
        if hit is None:
            if len(self._priced) >= self.limit:
                self._priced.clear()  # bound memory on very varied input
            try:
                priced = price_period(spec, factor, self.start, self.end, volume, prior_by_year)
                hit = (
                    priced,
                    priced.total,
                    tuple(
                        (ln.tier, ln.volume, ln.unit_price, ln.amount, ln.effective_from, ln.tariff_year)
                        for ln in priced.lines
                    ),
                )
            except tiermath.TariffError as exc:
                hit = (None, (exc.code, exc.message), ())
            self._priced[key] = hit
        if hit[0] is None:
            raise tiermath.TariffError(*hit[1])
        return hit
