"""The report pages' cheap per-column number formats write exactly what Django's floatformat
and intcomma write, in English and in Chinese (whose formats group differently), for the values
a report holds: Decimals of every size and sign, rounding halves, floats, ints, zero and None."""

from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import translation

from gasworks.reports.number_cells import count_cells, decimal_cells

DECIMALS = [
    Decimal("0"),
    Decimal("0.000"),
    Decimal("-0.0004"),
    Decimal("0.0005"),
    Decimal("-0.0005"),
    Decimal("1.2345"),
    Decimal("12.5"),
    Decimal("999.9995"),
    Decimal("1000"),
    Decimal("-1234.5678"),
    Decimal("12345678.901"),
    Decimal("-98765432109.87654"),
    Decimal("0.125"),
    Decimal("-0.125"),
    12.345,
    -0.5,
    7,
    -1234567,
    1e-7,
    "3.14159",
    "not a number",
    float("nan"),
]
COUNTS = [0, 1, -1, 999, 1000, -1000, 123456, 1234567890, Decimal("12.5"), "12"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_cheap_formats_write_what_django_writes(language):
    with translation.override(language):
        for places, grouped, arg in ((3, True, "3g"), (2, True, "2g"), (2, False, "2")):
            cells = decimal_cells(places, grouped)
            for value in DECIMALS:
                assert cells(value) == floatformat(value, arg), (language, arg, value)
        counts = count_cells()
        for value in COUNTS:
            assert counts(value) == intcomma(value), (language, value)


def test_the_languages_do_differ_so_the_comparison_means_something():
    with translation.override("en"):
        english = decimal_cells(3, True)(Decimal("12345.6789"))
    with translation.override("zh-hans"):
        chinese = decimal_cells(3, True)(Decimal("12345.6789"))
    assert english == "12,345.679"
    assert chinese == "12345.679"
