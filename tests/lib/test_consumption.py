from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasworks.lib.consumption import (
    ConsumptionError,
    VolumeResult,
    corrected_volume,
    correction_factor,
    customer_lpg_use,
    default_max_plausible,
    mass_used,
    net_fill,
    volume_across_replacement,
    volume_used,
)

D = Decimal


def readings(digits: int):
    """Register readings at 3 decimals in [0, 10**digits)."""
    top = 10 ** (digits + 3) - 1
    return st.integers(min_value=0, max_value=top).map(lambda n: D(n).scaleb(-3))


# --- volume ---------------------------------------------------------------


def test_it_subtracts_readings():
    assert volume_used("12345.678", "12400.000") == VolumeResult(D("54.322"), False, False)


def test_it_returns_zero_for_equal_readings():
    result = volume_used("100.000", "100.000")
    assert result == VolumeResult(D("0.000"), rolled_over=False, reverse=False)


def test_it_rounds_volume_to_three_places():
    assert volume_used("1", "3").volume.as_tuple().exponent == -3
    assert volume_used("0.0004", "1.0000").volume == D("1.000")


def test_it_rolls_over_a_five_digit_register():
    # The domain example: 99999.999 -> 00000.120 is +0.121 m³.
    result = volume_used("99999.999", "00000.120", digits=5)
    assert result == VolumeResult(D("0.121"), rolled_over=True, reverse=False)


def test_it_rolls_over_a_four_digit_register():
    assert volume_used("9990", "15", digits=4) == VolumeResult(D("25.000"), True, False)


def test_it_treats_an_implausible_rollover_as_reverse():
    # 500 -> 490 would be a 99 990 m³ rollover on 5 digits: a reverse reading instead.
    result = volume_used("500", "490")
    assert result == VolumeResult(D("-10.000"), rolled_over=False, reverse=True)


def test_it_documents_the_default_plausible_limit():
    assert default_max_plausible(5) == D("10000")
    assert default_max_plausible(4) == D("1000")


def test_it_accepts_a_rollover_exactly_at_the_default_limit():
    # 95000 -> 5000 is exactly 10 000 m³: still a rollover.
    assert volume_used("95000", "5000") == VolumeResult(D("10000.000"), True, False)


def test_it_refuses_a_rollover_just_above_the_default_limit():
    assert volume_used("95000", "5000.001") == VolumeResult(D("-89999.999"), False, True)


def test_it_uses_the_given_plausible_limit():
    assert volume_used("99990", "10", max_plausible="20") == VolumeResult(D("20.000"), True, False)
    assert volume_used("99990", "10", max_plausible="19.999") == VolumeResult(D("-99980.000"), False, True)


def test_it_lets_a_large_limit_accept_a_large_rollover():
    assert volume_used("60000", "10000", max_plausible="50000").rolled_over is True


@pytest.mark.parametrize(
    ("previous", "current"), [("-1", "5"), ("5", "-0.001"), ("100000", "5"), ("5", "100000.000")]
)
def test_it_refuses_readings_outside_the_register(previous, current):
    with pytest.raises(ConsumptionError) as caught:
        volume_used(previous, current, digits=5)
    assert caught.value.code == "reading_out_of_range"


def test_it_refuses_a_register_without_digits():
    with pytest.raises(ConsumptionError) as caught:
        volume_used("1", "2", digits=0)
    assert caught.value.code == "invalid_digits"


def test_it_refuses_float_readings():
    with pytest.raises(ValueError, match="float"):
        volume_used(1.5, "2")


def test_it_is_a_value_error_with_a_code():
    error = ConsumptionError("overfill", "too much")
    assert isinstance(error, ValueError)
    assert error.code == "overfill"
    assert str(error) == "too much"


@settings(max_examples=100)
@given(
    digits=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_it_round_trips_rollover_arithmetic(digits, data):
    span = D(10) ** digits
    previous = data.draw(readings(digits))
    current = data.draw(readings(digits))
    result = volume_used(previous, current, digits=digits)
    if result.reverse:
        assert result.volume < 0
        assert result.volume == current - previous
    else:
        assert result.volume >= 0
        assert (previous + result.volume) % span == current
        assert result.rolled_over == (current < previous)


@settings(max_examples=100)
@given(
    digits=st.integers(min_value=2, max_value=8),
    data=st.data(),
)
def test_it_keeps_the_total_when_an_extra_reading_splits_the_period(digits, data):
    # Two consecutive uses whose total is plausible, starting anywhere (so often across a
    # rollover): the split period and the whole period give the same volume.
    span = D(10) ** digits
    limit_thousandths = int(default_max_plausible(digits) * 1000)
    r0 = data.draw(readings(digits))
    first = D(data.draw(st.integers(0, limit_thousandths))).scaleb(-3)
    second = D(data.draw(st.integers(0, limit_thousandths - int(first * 1000)))).scaleb(-3)
    r1 = (r0 + first) % span
    r2 = (r1 + second) % span
    whole = volume_used(r0, r2, digits=digits)
    parts = [volume_used(r0, r1, digits=digits), volume_used(r1, r2, digits=digits)]
    assert not whole.reverse and not any(p.reverse for p in parts)
    assert parts[0].volume + parts[1].volume == whole.volume == first + second


@settings(max_examples=100)
@given(data=st.data())
def test_it_keeps_the_total_across_a_forced_rollover(data):
    # Start `before` m³ short of 100 000 on a 5-digit register and use `before + after`,
    # so the register always passes 99999.999; the extra reading falls anywhere.
    before = data.draw(st.integers(1, 10_000_000))  # thousandths of m³
    after = data.draw(st.integers(0, 10_000_000 - before))
    split = data.draw(st.integers(0, before + after))
    span = D(100000)
    r0 = span - D(before).scaleb(-3)
    r1 = (r0 + D(split).scaleb(-3)) % span
    r2 = D(after).scaleb(-3)
    whole = volume_used(r0, r2)
    assert whole.rolled_over
    parts = volume_used(r0, r1).volume + volume_used(r1, r2).volume
    assert parts == whole.volume == D(before + after).scaleb(-3)


# --- replacement ----------------------------------------------------------


def test_it_adds_both_meters_across_a_replacement():
    # Old meter 1200.5 -> 1250.0 (49.5 m³), new meter 0 -> 20.25 (20.25 m³).
    assert volume_across_replacement("1200.5", "1250.0", "0", "20.25") == D("69.750")


def test_it_applies_rollover_to_the_old_meter_part():
    total = volume_across_replacement("99990", "2", "0", "3")
    assert total == D("15.000")


def test_it_uses_each_meters_own_digits():
    # Old 4-digit register rolls over at 10 000; new 6-digit one starts at 12.
    total = volume_across_replacement("9995", "5", "12", "20", old_digits=4, new_digits=6)
    assert total == D("18.000")


def test_it_refuses_a_reverse_part_across_a_replacement():
    with pytest.raises(ConsumptionError) as caught:
        volume_across_replacement("100", "150", "10", "5")
    assert caught.value.code == "reverse_reading"
    assert "new meter" in str(caught.value)


def test_it_refuses_a_reverse_old_part():
    with pytest.raises(ConsumptionError, match="old meter") as caught:
        volume_across_replacement("150", "100", "0", "5")
    assert caught.value.code == "reverse_reading"


# --- mass and LPG ---------------------------------------------------------


def test_it_computes_mass():
    assert mass_used("30.20", "44.70") == D("14.50")
    assert mass_used("10", "10") == D("0")


def test_it_refuses_negative_mass():
    with pytest.raises(ConsumptionError) as caught:
        mass_used("44.70", "30.20")
    assert caught.value.code == "negative_mass"


def test_it_computes_the_net_fill():
    assert net_fill(gross="30.0", tare="15.5", rated_fill="14.5") == D("14.5")
    assert net_fill(gross="20.0", tare="15.5", rated_fill="14.5") == D("4.5")


def test_it_refuses_an_overfill():
    with pytest.raises(ConsumptionError) as caught:
        net_fill(gross="30.01", tare="15.5", rated_fill="14.5")
    assert caught.value.code == "overfill"


def test_it_refuses_gross_below_tare():
    with pytest.raises(ConsumptionError) as caught:
        net_fill(gross="15.4", tare="15.5", rated_fill="14.5")
    assert caught.value.code == "gross_below_tare"


def test_it_accepts_an_empty_cylinder_on_the_scale():
    assert net_fill(gross="15.5", tare="15.5", rated_fill="14.5") == D("0.0")


@pytest.mark.parametrize(
    ("gross", "tare", "rated", "code"),
    [
        ("10", "5", "0", "invalid_rated_fill"),
        ("10", "5", "-1", "invalid_rated_fill"),
        ("10", "-5", "20", "negative_mass"),
    ],
)
def test_it_refuses_impossible_filling_inputs(gross, tare, rated, code):
    with pytest.raises(ConsumptionError) as caught:
        net_fill(gross, tare, rated)
    assert caught.value.code == code


def test_it_computes_customer_lpg_use():
    assert customer_lpg_use("14.5", "0.8") == D("13.7")
    assert customer_lpg_use("14.5", "14.5") == D("0.0")


def test_it_refuses_a_residual_above_the_fill():
    with pytest.raises(ConsumptionError) as caught:
        customer_lpg_use("14.5", "14.6")
    assert caught.value.code == "residual_above_fill"


def test_it_refuses_a_negative_residual():
    with pytest.raises(ConsumptionError) as caught:
        customer_lpg_use("14.5", "-0.1")
    assert caught.value.code == "negative_mass"


# --- correction to base conditions ----------------------------------------


def test_it_corrects_against_a_hand_computed_value():
    # Gauge 2.0 kPa at 10 °C, base 101.325 kPa / 20 °C, Z = 1:
    #   Pm = 2.0 + 101.325 = 103.325 kPa, Tm = 283.15 K, Tb = 293.15 K
    #   factor = (103.325 × 293.15) / (101.325 × 283.15)
    #          = 30289.72375 / 28690.17375
    #          = 1.055752537922500382208385894 (28 significant digits)
    factor = correction_factor(D("2.0"), D("10"))
    assert factor == D("1.055752537922500382208385894")
    # 100 m³ × 1.0557525... = 105.5752... -> 105.575
    assert corrected_volume(D("100"), factor) == D("105.575")


def test_it_gives_factor_one_at_base_conditions():
    assert correction_factor("0", "20") == D("1")


def test_it_lowers_the_volume_when_warmer_than_base():
    # 0 kPa gauge at 30 °C: 293.15 / 303.15 < 1.
    factor = correction_factor("0", "30")
    assert factor == D("293.15") / D("303.15")
    assert corrected_volume("303.15", factor) == D("293.150")


def test_it_applies_compressibility():
    # Zb / Zm = 0.998 / 0.995 at base pressure and temperature.
    assert correction_factor("0", "20", z_base="0.998", z_measured="0.995") == D("0.998") / D("0.995")


def test_it_uses_the_given_base_conditions():
    # Base 101.325 kPa and 0 °C (273.15 K): measured 101.325 kPa absolute at 20 °C.
    factor = correction_factor("0", "20", base_temperature_c="0")
    assert factor == D("273.15") / D("293.15")


def test_it_uses_the_given_atmospheric_pressure():
    # A high-altitude station: 80 kPa atmosphere + 21.325 kPa gauge = 101.325 kPa absolute.
    assert correction_factor("21.325", "20", atmospheric_kpa="80") == D("1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pressure_gauge_kpa": "-101.325", "temperature_c": "20"},
        {"pressure_gauge_kpa": "-200", "temperature_c": "20"},
        {"pressure_gauge_kpa": "0", "temperature_c": "-273.15"},
        {"pressure_gauge_kpa": "0", "temperature_c": "-300"},
        {"pressure_gauge_kpa": "0", "temperature_c": "20", "base_pressure_kpa": "0"},
        {"pressure_gauge_kpa": "0", "temperature_c": "20", "base_temperature_c": "-273.15"},
        {"pressure_gauge_kpa": "0", "temperature_c": "20", "z_measured": "0"},
        {"pressure_gauge_kpa": "0", "temperature_c": "20", "z_base": "-1"},
    ],
)
def test_it_refuses_impossible_conditions(kwargs):
    with pytest.raises(ConsumptionError) as caught:
        correction_factor(**kwargs)
    assert caught.value.code == "invalid_conditions"


def test_it_accepts_just_above_absolute_zero():
    assert correction_factor("0", "-273.14") > 0


def test_it_refuses_float_conditions():
    with pytest.raises(ValueError, match="float"):
        correction_factor(2.0, "10")


def test_it_rounds_the_corrected_volume_half_up():
    assert corrected_volume("1", "1.0005") == D("1.001")
    assert corrected_volume("1", "1.0004999") == D("1.000")
