"""Decimals against the column they go to: its ``max_digits`` and ``decimal_places``.

One rule for every way in (API serializers, page forms, services handed raw input) and, as the
last line, for every write (gasworks.lib.fields.DecimalField):

- input: a value fits its column or is refused, with a message saying the column's limits; a
  price with 5 decimals for a 4-place column is refused, not rounded (``input_error``);
- write: a value whose whole part is wider than the column is never stored (``overflow_error``);
  SQLite would store it and fail on every read after, PostgreSQL answers with a 500.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from gasworks.lib.money import DecimalSpec


def limits(model, name: str) -> DecimalSpec:
    """``{"max_digits", "decimal_places"}`` of ``model``'s DecimalField ``name``."""
    field = model._meta.get_field(name)
    return {"max_digits": field.max_digits, "decimal_places": field.decimal_places}


def _shape(value: Decimal) -> tuple[int, int]:
    """(digits before the point, digits after it) of a finite Decimal, trailing zeros dropped.
    From the digit tuple alone: no context arithmetic, so 1E+99999999999999 cannot overflow."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN and Infinity have no shape
        raise ValueError(f"{value} is not a finite number")
    while len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    if digits == (0,):
        return 0, 0
    return max(0, len(digits) + exponent), max(0, -exponent)


def describe(max_digits: int, decimal_places: int) -> str:
    return _("at most %(whole)d digits before the decimal point and %(places)d after it") % {
        "whole": max_digits - decimal_places,
        "places": decimal_places,
    }


def input_error(value: Decimal, max_digits: int, decimal_places: int) -> str | None:
    """Why ``value`` does not fit the column exactly, or None when it does."""
    if not value.is_finite():
        return _("Give a finite number.")
    whole, places = _shape(value)
    if whole > max_digits - decimal_places or places > decimal_places:
        return _("%(value)s does not fit: %(limits)s.") % {
            "value": value,
            "limits": describe(max_digits, decimal_places),
        }
    return None


def overflow_error(value: Decimal, max_digits: int, decimal_places: int) -> str | None:
    """Why ``value`` cannot be stored even once rounded to the column's places, or None."""
    if not value.is_finite():
        return _("Give a finite number.")
    room = max_digits - decimal_places
    whole = _shape(value)[0]
    if whole == room:  # rounding to the column's places may carry into one more digit (99.995)
        whole = _shape(value.quantize(Decimal(1).scaleb(-decimal_places)))[0]
    if whole > room:
        return _("%(value)s is out of range: %(limits)s.") % {
            "value": value,
            "limits": describe(max_digits, decimal_places),
        }
    return None
