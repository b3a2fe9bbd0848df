"""The station's parameters: every figure a station may need to set to its own rules or
standards (thresholds, ages, rates, advance notices) lives here with its default.
A row in the Parameter table overrides the default; later apps register their own."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Spec:
    key: str
    kind: type  # str, int, Decimal or bool
    default: object
    label: StrOrPromise
    group: str = "station"
    minimum: Decimal | None = None

    @property
    def group_label(self) -> str:
        return str(GROUP_LABELS.get(self.group, self.group))


# What the parameters page calls each group.
GROUP_LABELS = {
    "station": _("Station"),
    "metering": _("Metering"),
    "billing": _("Billing"),
    "payments": _("Payments"),
    "cylinders": _("LPG cylinders"),
    "safety": _("Safety"),
}


REGISTRY: dict[str, Spec] = {}


def register(*specs: Spec) -> None:
    for spec in specs:
        REGISTRY[spec.key] = spec


register(
    Spec("station_name", str, "Gasworks Demo Gas Station", _("Station name")),
    Spec("station_address", str, "", _("Station address")),
    Spec("station_phone", str, "", _("Station phone (shown on bills and receipts)")),
    Spec("emergency_phone", str, "", _("24-hour emergency phone")),
    Spec(
        "base_pressure_kpa",
        Decimal,
        Decimal("101.325"),
        _("Base pressure, kPa absolute"),
        "metering",
        Decimal("1"),
    ),
    Spec("base_temperature_c", Decimal, Decimal("20"), _("Base temperature, °C"), "metering"),
    Spec(
        "atmospheric_pressure_kpa",
        Decimal,
        Decimal("101.325"),
        _("Local atmospheric pressure, kPa"),
        "metering",
        Decimal("1"),
    ),
    Spec(
        "late_fee_rate_per_day",
        Decimal,
        Decimal("0.0005"),
        _("Late fee per day, fraction of the overdue amount"),
        "billing",
        Decimal("0"),
    ),
    Spec(
        "late_fee_cap_ratio",
        Decimal,
        Decimal("1"),
        _("Late fee cap, fraction of the overdue amount"),
        "billing",
        Decimal("0"),
    ),
    Spec("bill_due_days", int, 15, _("Days from bill issue to due date"), "billing", Decimal("0")),
    Spec(
        "household_base_size",
        int,
        4,
        _("Household size covered by the standard tier quotas"),
        "billing",
        Decimal("1"),
    ),
    Spec(
        "household_extra_person_ratio",
        Decimal,
        Decimal("0.25"),
        _("Tier quota increase per person above the base size"),
        "billing",
        Decimal("0"),
    ),
    Spec(
        "inspection_interval_residential_months",
        int,
        24,
        _("Home inspection interval, residential (months)"),
        "safety",
        Decimal("1"),
    ),
    Spec(
        "inspection_interval_commercial_months",
        int,
        12,
        _("Home inspection interval, commercial (months)"),
        "safety",
        Decimal("1"),
    ),
    Spec(
        "inspection_interval_industrial_months",
        int,
        12,
        _("Home inspection interval, industrial (months)"),
        "safety",
        Decimal("1"),
    ),
    # 0: never. Readings only (the ledger is never detached: a balance is the sum of all its
    # account's entries); keep more than a tariff year and the reports' reach.
    Spec(
        "partitions_keep_months",
        int,
        0,
        _("Months of readings kept in the readings table (older ones are detached; 0: never)"),
        "station",
        Decimal("0"),
    ),
)


class ParameterError(ValueError):
    pass


def parse(spec: Spec, raw: str) -> object:
    """Text from a form or the database to the parameter's type, or ParameterError."""
    raw = raw.strip()
    try:
        if spec.kind is bool:
            if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError
            value: object = raw.lower() in {"true", "1", "yes"}
        elif spec.kind is int:
            value = int(raw)
        elif spec.kind is Decimal:
            value = Decimal(raw)
            if not value.is_finite():
                raise ValueError
        else:
            value = raw
    except (ValueError, InvalidOperation) as exc:
        raise ParameterError(f"“{raw}” is not a valid {spec.kind.__name__}") from exc
    if spec.minimum is not None and spec.kind in (int, Decimal) and Decimal(value) < spec.minimum:  # type: ignore[arg-type]
        raise ParameterError(f"must be at least {spec.minimum}")
    return value


# The stored overrides are read once per CACHE_SECONDS per process (Django's cache, per process
# unless a shared cache is configured), not once per use: the counter checks its limit on every
# payment. Saving or deleting a Parameter drops the cached copy at once and again on commit, so
# the process that changed a value sees it immediately; other worker processes within
# CACHE_SECONDS (at once, with a shared cache).
CACHE_KEY = "gasworks:parameters"
CACHE_SECONDS = 5


def stored_values() -> dict[str, str]:
    """Every stored override, {key: raw text}."""
    from django.core.cache import cache

    from gasworks.system.models import Parameter

    stored = cache.get(CACHE_KEY)
    if stored is None:
        stored = dict(Parameter.objects.values_list("key", "value"))
        cache.set(CACHE_KEY, stored, CACHE_SECONDS)
    return stored


def forget() -> None:
    """Drop the cached overrides, now and when the current transaction commits (a reader in
    between would otherwise cache what the commit is about to replace)."""
    from django.core.cache import cache
    from django.db import transaction

    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def get(key: str):
    """The parameter's current value (a stored override, else the default)."""
    spec = REGISTRY[key]
    stored = stored_values().get(key)
    if stored is None:
        return spec.default
    try:
        return parse(spec, stored)
    except ParameterError:
        return spec.default
