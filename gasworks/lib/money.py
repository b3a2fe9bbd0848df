"""Decimal helpers for money, unit prices and gas volumes.

One place decides how amounts are rounded, so a bill, a receipt and a report can never
disagree by a cent. Floats are refused at the door: 2.61 as a float is not 2.61.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TypedDict

# Amounts in CNY are kept to the fen; unit prices keep 4 places (tariffs are published that
# way); volumes keep the litre (0.001 m³), the resolution of a domestic register.
MONEY_PLACES = Decimal("0.01")
PRICE_PLACES = Decimal("0.0001")
VOLUME_PLACES = Decimal("0.001")


# Every stored amount: models.DecimalField(..., **MONEY_FIELD).
class DecimalSpec(TypedDict):
    """The digits of a decimal column or field, splatted into its declaration (typed, so that
    mypy checks the keywords it fills)."""

    max_digits: int
    decimal_places: int


class FormDecimalSpec(DecimalSpec):
    """A form field's digits with the smallest value it takes."""

    min_value: Decimal | int


MONEY_FIELD: DecimalSpec = {"max_digits": 14, "decimal_places": 2}

DecimalLike = Decimal | int | str


def to_decimal(value: DecimalLike) -> Decimal:
    """Return ``value`` as a finite Decimal.

    Accepts str, int and Decimal. Refuses float (binary floats cannot hold 2.61 exactly),
    bool (almost always a bug), NaN and Infinity, with a ValueError saying why. Any other
    type is a TypeError.
    """
    if isinstance(value, float):
        raise ValueError(f"float {value!r} is not accepted for money or volume; pass a str or Decimal")
    if isinstance(value, bool):
        raise ValueError(f"bool {value!r} is not a number; pass a str, int or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        result = _parse(value)
    else:
        raise TypeError(f"expected str, int or Decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number (NaN and Infinity are refused)")
    return result


def _parse(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None


def _quantize(value: DecimalLike, places: Decimal) -> Decimal:
    # Half-up means half away from zero for negatives too (-0.005 -> -0.01), the
    # commercial rule, so a refund mirrors the charge it reverses.
    return to_decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def round_money(value: DecimalLike) -> Decimal:
    """Round an amount half-up to 0.01."""
    return _quantize(value, MONEY_PLACES)


def round_price(value: DecimalLike) -> Decimal:
    """Round a unit price half-up to 0.0001."""
    return _quantize(value, PRICE_PLACES)


def round_volume(value: DecimalLike) -> Decimal:
    """Round a volume (m³) or mass half-up to 0.001."""
    return _quantize(value, VOLUME_PLACES)


def format_money(value, sign: bool = True) -> str:
    """An amount as shown to people, in every language and on every page and PDF: ¥83,131.99,
    -¥5.00 (``sign=False`` drops the minus, for a figure whose meaning the words already say).
    None is an empty string."""
    if value is None or value == "":
        return ""
    amount = round_money(value if not isinstance(value, float) else str(value))
    text = f"¥{abs(amount):,.2f}"
    return f"-{text}" if sign and amount < 0 else text


def format_balance(value) -> str:
    """A balance in words: a debt reads as owed, a credit as credit (余额), never a bare minus;
    a square account is just ¥0.00."""
    from django.utils.translation import gettext

    if value is None or value == "":
        return ""
    amount = round_money(value if not isinstance(value, float) else str(value))
    if amount < 0:
        return gettext("Owed %(amount)s") % {"amount": format_money(amount, sign=False)}
    if amount == 0:
        return format_money(amount)  # square: neither owed nor in credit
    return gettext("Credit %(amount)s") % {"amount": format_money(amount)}


def format_price(value) -> str:
    """A unit price as shown to people: the yuan sign, at least 2 and at most 4 places (¥2.61,
    ¥8.1234): a price is not rounded to the fen the way an amount is."""
    if value is None or value == "":
        return ""
    price = round_price(value if not isinstance(value, float) else str(value))
    text = f"{abs(price):,.4f}"
    text = text[:-2] + text[-2:].rstrip("0")
    return f"{'-' if price < 0 else ''}¥{text}"
