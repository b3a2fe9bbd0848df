"""Figures of a report's column as Django's `floatformat` and humanize's `intcomma` write them,
made once per column: both look the language's number formats up again for every cell, which
on a year of days (thousands of cells) was most of the LPG page's time. The formats are read
once when the column's formatter is made, in the language of the request, so the text is the
same as theirs in English and in Chinese (a test compares them)."""

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.formats import get_format


def _grouper(grouped: bool) -> Callable[[str], str] | None:
    """Digits → digits with the language's thousand separator (None: a grouping we leave to
    Django, a sequence of group sizes, which no language of ours has)."""
    separator = get_format("THOUSAND_SEPARATOR")
    size = get_format("NUMBER_GROUPING")
    if not ((grouped or settings.USE_THOUSAND_SEPARATOR) and separator and size):
        return lambda digits: digits
    if not isinstance(size, int):
        return None

    def group(digits: str) -> str:
        if len(digits) <= size:
            return digits
        head = len(digits) % size or size
        return separator.join(
            [digits[:head], *(digits[i : i + size] for i in range(head, len(digits), size))]
        )

    return group


def decimal_cells(places: int, grouped: bool) -> Callable[[object], str]:
    """value → text, as ``floatformat(value, f"{places}g")`` (grouped) or
    ``floatformat(value, places)``; values it cannot read exactly go to floatformat itself."""
    arg = f"{places}g" if grouped else str(places)
    group = _grouper(grouped)
    if group is None:
        return lambda value: floatformat(value, arg)
    point = get_format("DECIMAL_SEPARATOR")
    step = Decimal(1).scaleb(-places)

    def text(value) -> str:
        try:
            rounded = Decimal(str(value)).quantize(step, ROUND_HALF_UP)
        except (InvalidOperation, ValueError, TypeError):
            rounded = None
        if rounded is None or not rounded.is_finite():
            return floatformat(value, arg)
        sign = "-" if rounded < 0 else ""  # floatformat drops the sign of a rounded zero
        whole, _point, fraction = f"{abs(rounded):f}".partition(".")
        return f"{sign}{group(whole)}{point}{fraction}" if places else f"{sign}{group(whole)}"

    return text


def count_cells() -> Callable[[Any], str]:
    """value → text, as ``intcomma(value)`` (ints; anything else goes to intcomma itself)."""
    group = _grouper(True)
    if group is None:
        return intcomma

    def text(value: Any) -> str:
        if type(value) is not int:
            return intcomma(value)
        return f"-{group(str(-value))}" if value < 0 else group(str(value))

    return text
