from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasworks.lib.money import (
    MONEY_PLACES,
    PRICE_PLACES,
    VOLUME_PLACES,
    round_money,
    round_price,
    round_volume,
    to_decimal,
)


def test_it_defines_the_places():
    assert Decimal("0.01") == MONEY_PLACES
    assert Decimal("0.0001") == PRICE_PLACES
    assert Decimal("0.001") == VOLUME_PLACES


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.61"), Decimal("2.61")),
        ("2.61", Decimal("2.61")),
        (" 2.61\n", Decimal("2.61")),
        (350, Decimal("350")),
        ("-0.5", Decimal("-0.5")),
        ("1e3", Decimal("1000")),
    ],
)
def test_it_accepts_str_int_and_decimal(value, expected):
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected


def test_it_refuses_float_with_a_clear_message():
    with pytest.raises(ValueError, match=r"float 2\.61 is not accepted"):
        to_decimal(2.61)


def test_it_refuses_float_even_when_whole():
    with pytest.raises(ValueError, match="float"):
        to_decimal(350.0)


def test_it_refuses_bool():
    with pytest.raises(ValueError, match="bool"):
        to_decimal(True)


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-inf", Decimal("NaN"), Decimal("-Infinity")]
)
def test_it_refuses_nan_and_infinity(value):
    with pytest.raises(ValueError, match="not a finite number"):
        to_decimal(value)


@pytest.mark.parametrize("value", ["", "abc", "2,61", "1.2.3"])
def test_it_refuses_text_that_is_not_a_number(value):
    with pytest.raises(ValueError, match="is not a decimal number"):
        to_decimal(value)


@pytest.mark.parametrize("value", [None, [1], object()])
def test_it_refuses_other_types(value):
    with pytest.raises(TypeError, match="expected str, int or Decimal"):
        to_decimal(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", Decimal("0.01")),
        ("0.004", Decimal("0.00")),
        ("2.675", Decimal("2.68")),  # the classic float trap: 2.675 as float rounds to 2.67
        ("130.5", Decimal("130.50")),
        ("-0.005", Decimal("-0.01")),  # half away from zero, so a reversal mirrors a charge
        (7, Decimal("7.00")),
    ],
)
def test_it_rounds_money_half_up(value, expected):
    result = round_money(value)
    assert result == expected
    assert result.as_tuple().exponent == -2


def test_it_rounds_prices_to_four_places():
    assert round_price("2.61005") == Decimal("2.6101")
    assert round_price("2.61004") == Decimal("2.6100")
    assert round_price("2.61").as_tuple().exponent == -4


def test_it_rounds_volumes_to_three_places():
    assert round_volume("0.1205") == Decimal("0.121")
    assert round_volume("0.1204") == Decimal("0.120")
    assert round_volume(5) == Decimal("5.000")
    assert round_volume("5").as_tuple().exponent == -3


def test_it_refuses_float_when_rounding():
    with pytest.raises(ValueError, match="float"):
        round_money(0.1)


@settings(max_examples=100)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6))
def test_it_rounds_within_half_a_unit(value):
    for round_to, places in (
        (round_money, MONEY_PLACES),
        (round_price, PRICE_PLACES),
        (round_volume, VOLUME_PLACES),
    ):
        result = round_to(value)
        assert abs(result - value) <= places / 2
        assert round_to(result) == result
