from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasworks.lib.tiers import (
    BillLine,
    PriceVersion,
    TariffError,
    Tier,
    TierLine,
    apply_minimum,
    apportion_by_days,
    bill_period,
    flat_tiers,
    scale_thresholds,
    split_by_tiers,
    validate_tiers,
    volume_for_amount,
)

D = Decimal

# Beijing residential, cooking / hot water: 350 / 500 m³ steps at 2.61 / 2.83 / 4.23 CNY.
BEIJING = (Tier(D("350"), D("2.61")), Tier(D("500"), D("2.83")), Tier(None, D("4.23")))
# A later, dearer version used for price-change tests.
DEARER = (Tier(D("350"), D("2.81")), Tier(D("500"), D("3.03")), Tier(None, D("4.43")))
V2024 = PriceVersion(date(2024, 1, 1), BEIJING)
V_JULY = PriceVersion(date(2024, 7, 1), DEARER)


def total(lines) -> Decimal:
    return sum((line.amount for line in lines), D("0"))


def volumes(lines) -> Decimal:
    return sum((line.volume for line in lines), D("0"))


# --- split_by_tiers -------------------------------------------------------


def test_it_prices_the_worked_example():
    # 300 m³ used earlier this year, now 100 m³: 50 × 2.61 + 50 × 2.83 = 272.00.
    lines = split_by_tiers(D("300"), D("100"), BEIJING)
    assert lines == [
        TierLine(tier=1, volume=D("50"), unit_price=D("2.61"), amount=D("130.50")),
        TierLine(tier=2, volume=D("50"), unit_price=D("2.83"), amount=D("141.50")),
    ]
    assert total(lines) == D("272.00")


def test_it_stays_in_tier_one_below_the_threshold():
    assert split_by_tiers("0", "350", BEIJING) == [TierLine(1, D("350"), D("2.61"), D("913.50"))]


def test_it_crosses_every_tier():
    lines = split_by_tiers("0", "600", BEIJING)
    assert [(line.tier, line.volume, line.amount) for line in lines] == [
        (1, D("350"), D("913.50")),
        (2, D("150"), D("424.50")),
        (3, D("100"), D("423.00")),
    ]
    assert total(lines) == D("1761.00")


def test_it_starts_in_the_next_tier_when_prior_is_on_a_threshold():
    assert split_by_tiers("350", "10", BEIJING) == [TierLine(2, D("10"), D("2.83"), D("28.30"))]


def test_it_charges_only_the_top_tier_after_a_heavy_year():
    assert split_by_tiers("800", "10", BEIJING) == [TierLine(3, D("10"), D("4.23"), D("42.30"))]


def test_it_gives_no_lines_for_zero_volume():
    assert split_by_tiers("300", "0", BEIJING) == []


def test_it_rounds_each_line_once_half_up():
    # 0.335 × 2.61 = 0.87435 -> 0.87; 0.665 × 2.83 = 1.88195 -> 1.88.
    lines = split_by_tiers("349.665", "1", BEIJING)
    assert [(line.volume, line.amount) for line in lines] == [
        (D("0.335"), D("0.87")),
        (D("0.665"), D("1.88")),
    ]


def test_it_keeps_volumes_at_three_decimals():
    lines = split_by_tiers("0", "1.2345", BEIJING)
    assert lines[0].volume == D("1.235")
    assert lines[0].volume.as_tuple().exponent == -3


def test_it_prices_a_flat_tariff():
    assert flat_tiers("2.63") == (Tier(None, D("2.63")),)
    assert split_by_tiers("99999", "10", flat_tiers("2.63")) == [TierLine(1, D("10"), D("2.63"), D("26.30"))]


@pytest.mark.parametrize(
    ("prior", "volume", "code"),
    [("-1", "10", "negative_prior_volume"), ("0", "-0.001", "negative_volume")],
)
def test_it_refuses_negative_volumes(prior, volume, code):
    with pytest.raises(TariffError) as caught:
        split_by_tiers(prior, volume, BEIJING)
    assert caught.value.code == code


def test_it_validates_tiers_before_splitting():
    with pytest.raises(TariffError) as caught:
        split_by_tiers("0", "1", ())
    assert caught.value.code == "no_tiers"


@st.composite
def ladders(draw):
    """Valid tier ladders: increasing integer thresholds, then an unbounded tier."""
    bounds = sorted(draw(st.lists(st.integers(1, 5000), max_size=4, unique=True)))
    prices = st.decimals(min_value=0, max_value=20, places=4)
    bounded = tuple(Tier(D(up_to), draw(prices)) for up_to in bounds)
    return (*bounded, Tier(None, draw(prices)))


volumes_3dp = st.integers(0, 10_000_000).map(lambda n: D(n).scaleb(-3))


@settings(max_examples=100)
@given(tiers=ladders(), prior=volumes_3dp, volume=volumes_3dp)
def test_it_splits_into_lines_that_sum_to_the_volume(tiers, prior, volume):
    lines = split_by_tiers(prior, volume, tiers)
    assert volumes(lines) == volume
    assert all(line.volume > 0 for line in lines)
    assert [line.tier for line in lines] == sorted({line.tier for line in lines})


@settings(max_examples=100)
@given(tiers=ladders(), prior=volumes_3dp, volume=volumes_3dp, extra=volumes_3dp)
def test_it_never_charges_less_for_more_volume(tiers, prior, volume, extra):
    smaller = total(split_by_tiers(prior, volume, tiers))
    larger = total(split_by_tiers(prior, volume + extra, tiers))
    assert larger >= smaller


@settings(max_examples=100)
@given(tiers=ladders(), prior=volumes_3dp, first=volumes_3dp, second=volumes_3dp)
def test_it_splits_two_bills_like_one_in_volume_per_tier(tiers, prior, first, second):
    # Billing a+b in one go or a then b (with a added to prior) puts the same volume in
    # each tier; only per-line rounding of amounts may differ.
    def per_tier(lines):
        result: dict[int, Decimal] = {}
        for line in lines:
            result[line.tier] = result.get(line.tier, D("0")) + line.volume
        return result

    once = per_tier(split_by_tiers(prior, first + second, tiers))
    twice = per_tier(split_by_tiers(prior, first, tiers) + split_by_tiers(prior + first, second, tiers))
    assert once == twice


# --- validate_tiers -------------------------------------------------------


def test_it_accepts_a_valid_ladder():
    validate_tiers(BEIJING)
    validate_tiers((Tier(None, D("0")),))


@pytest.mark.parametrize(
    ("tiers", "code"),
    [
        ((), "no_tiers"),
        (
            (Tier(D("500"), D("2.61")), Tier(D("350"), D("2.83")), Tier(None, D("4"))),
            "thresholds_not_increasing",
        ),
        (
            (Tier(D("350"), D("2.61")), Tier(D("350"), D("2.83")), Tier(None, D("4"))),
            "thresholds_not_increasing",
        ),
        ((Tier(None, D("2.61")), Tier(None, D("2.83"))), "unbounded_tier_not_last"),
        ((Tier(None, D("2.61")), Tier(D("500"), D("2.83"))), "unbounded_tier_not_last"),
        ((Tier(D("350"), D("2.61")), Tier(D("500"), D("2.83"))), "last_tier_bounded"),
        ((Tier(D("350"), D("-0.01")), Tier(None, D("2.83"))), "negative_price"),
        ((Tier(D("0"), D("2.61")), Tier(None, D("2.83"))), "non_positive_threshold"),
        ((Tier(D("-5"), D("2.61")), Tier(None, D("2.83"))), "non_positive_threshold"),
    ],
)
def test_it_refuses_a_broken_ladder(tiers, code):
    with pytest.raises(TariffError) as caught:
        validate_tiers(tiers)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)
    assert caught.value.message == str(caught.value)


def test_it_refuses_float_in_a_tier():
    with pytest.raises(ValueError, match="float"):
        Tier(D("350"), 2.61)
    with pytest.raises(ValueError, match="float"):
        Tier(350.0, D("2.61"))


def test_it_coerces_tier_values_to_decimal():
    tier = Tier(350, "2.61")
    assert tier == Tier(D("350"), D("2.61"))
    assert isinstance(tier.up_to, Decimal)
    assert isinstance(tier.price, Decimal)


def test_it_validates_a_price_version_when_built():
    with pytest.raises(TariffError) as caught:
        PriceVersion(date(2024, 1, 1), (Tier(D("350"), D("2.61")),))
    assert caught.value.code == "last_tier_bounded"


def test_it_stores_price_version_tiers_as_a_tuple():
    version = PriceVersion(date(2024, 1, 1), list(BEIJING))
    assert version.tiers == BEIJING


# --- household scaling ----------------------------------------------------


def test_it_scales_thresholds_for_a_large_household():
    scaled = scale_thresholds(BEIJING, D("1.5"))
    assert scaled == (Tier(D("525"), D("2.61")), Tier(D("750"), D("2.83")), Tier(None, D("4.23")))


def test_it_prices_the_worked_example_for_a_scaled_household():
    # With thresholds × 1.5 the same 300 + 100 m³ stays in tier 1: 100 × 2.61.
    lines = split_by_tiers("300", "100", scale_thresholds(BEIJING, "1.5"))
    assert lines == [TierLine(1, D("100"), D("2.61"), D("261.00"))]


def test_it_rounds_scaled_thresholds_to_three_places():
    assert scale_thresholds((Tier(D("350"), D("1")), Tier(None, D("2"))), D("1.33333"))[0].up_to == D(
        "466.666"
    )


@pytest.mark.parametrize("factor", ["0", "-1"])
def test_it_refuses_a_non_positive_factor(factor):
    with pytest.raises(TariffError) as caught:
        scale_thresholds(BEIJING, factor)
    assert caught.value.code == "invalid_factor"


# --- bill_period ----------------------------------------------------------


def test_it_bills_a_period_without_cuts_like_split_by_tiers():
    lines = bill_period(date(2024, 3, 1), date(2024, 4, 1), D("100"), {date(2024, 1, 1): D("300")}, [V2024])
    assert lines == [
        BillLine(1, D("50"), D("2.61"), D("130.50"), date(2024, 1, 1)),
        BillLine(2, D("50"), D("2.83"), D("141.50"), date(2024, 1, 1)),
    ]


def test_it_splits_a_period_at_a_price_change():
    # 16 June – 16 July 2024 is 30 days, 15 before and 15 after the 1 July change: 30 + 30 m³.
    # June part on prior 320: 30 m³ in tier 1 at 2.61. July part on prior 350: tier 2 at 3.03.
    lines = bill_period(
        date(2024, 6, 16),
        date(2024, 7, 16),
        D("60"),
        {date(2024, 1, 1): D("320")},
        [V2024, V_JULY],
    )
    assert lines == [
        BillLine(1, D("30"), D("2.61"), D("78.30"), date(2024, 1, 1)),
        BillLine(2, D("30"), D("3.03"), D("90.90"), date(2024, 7, 1)),
    ]


def test_it_adds_the_first_segment_to_the_prior_of_the_second():
    # Prior 340; 20 m³ before the change: 10 in tier 1, 10 in tier 2; the 20 m³ after it
    # start at 360, so they are all tier 2 at the new price.
    lines = bill_period(
        date(2024, 6, 21),
        date(2024, 7, 11),
        D("40"),
        {date(2024, 1, 1): D("340")},
        [V2024, V_JULY],
    )
    assert lines == [
        BillLine(1, D("10"), D("2.61"), D("26.10"), date(2024, 1, 1)),
        BillLine(2, D("10"), D("2.83"), D("28.30"), date(2024, 1, 1)),
        BillLine(2, D("20"), D("3.03"), D("60.60"), date(2024, 7, 1)),
    ]


def test_it_resets_prior_use_at_a_year_boundary():
    # 17 Dec 2024 – 16 Jan 2025: 15 days in each year, 45 + 45 m³.
    # December on prior 480: 20 in tier 2, 25 in tier 3. January on prior 0: tier 1.
    version = PriceVersion(date(2020, 1, 1), BEIJING)
    prior = {date(2024, 1, 1): D("480"), date(2025, 1, 1): D("0")}
    lines = bill_period(date(2024, 12, 17), date(2025, 1, 16), D("90"), prior, [version])
    assert lines == [
        BillLine(2, D("20"), D("2.83"), D("56.60"), date(2020, 1, 1)),
        BillLine(3, D("25"), D("4.23"), D("105.75"), date(2020, 1, 1)),
        BillLine(1, D("45"), D("2.61"), D("117.45"), date(2020, 1, 1)),
    ]


def test_it_treats_a_missing_year_in_the_mapping_as_no_prior_use():
    version = PriceVersion(date(2020, 1, 1), BEIJING)
    lines = bill_period(
        date(2024, 12, 17), date(2025, 1, 16), D("90"), {date(2024, 1, 1): D("480")}, [version]
    )
    assert lines[-1] == BillLine(1, D("45"), D("2.61"), D("117.45"), date(2020, 1, 1))


def test_it_asks_a_callable_for_the_prior_use_of_each_year_once():
    calls = []

    def prior(year_start: date) -> Decimal:
        calls.append(year_start)
        return D("0")

    version = PriceVersion(date(2020, 1, 1), BEIJING)
    bill_period(date(2024, 12, 17), date(2025, 1, 16), D("90"), prior, [version])
    assert calls == [date(2024, 1, 1), date(2025, 1, 1)]


def test_it_uses_a_tariff_year_that_does_not_start_in_january():
    # Tariff year from 1 July: 21 June – 11 July 2024 is 10 + 10 days, 20 + 20 m³.
    version = PriceVersion(date(2020, 1, 1), BEIJING)
    prior = {date(2023, 7, 1): D("495"), date(2024, 7, 1): D("0")}
    lines = bill_period(
        date(2024, 6, 21), date(2024, 7, 11), D("40"), prior, [version], year_start_month=7, year_start_day=1
    )
    assert [(line.tier, line.volume) for line in lines] == [
        (2, D("5")),
        (3, D("15")),
        (1, D("20")),
    ]


def test_it_splits_at_a_price_change_and_a_year_boundary_together():
    # 1 Dec 2024 – 31 Jan 2025 (61 days), new prices from 1 Jan 2025 coincide with the year.
    # 31 days: 61 × 31 / 61 = 31 m³; 30 days: 30 m³.
    v2025 = PriceVersion(date(2025, 1, 1), DEARER)
    prior = {date(2024, 1, 1): D("0"), date(2025, 1, 1): D("0")}
    lines = bill_period(date(2024, 12, 1), date(2025, 1, 31), D("61"), prior, [v2025, V2024])
    assert lines == [
        BillLine(1, D("31"), D("2.61"), D("80.91"), date(2024, 1, 1)),
        BillLine(1, D("30"), D("2.81"), D("84.30"), date(2025, 1, 1)),
    ]


def test_it_apportions_by_days_and_gives_the_remainder_to_the_last_segment():
    # Three one-day segments for 10 m³: cumulative shares 3.333, 6.667, 10.000.
    versions = [
        PriceVersion(date(2024, 1, 1), flat_tiers("1")),
        PriceVersion(date(2024, 5, 2), flat_tiers("2")),
        PriceVersion(date(2024, 5, 3), flat_tiers("3")),
    ]
    lines = bill_period(date(2024, 5, 1), date(2024, 5, 4), D("10"), {}, versions)
    assert [(line.volume, line.amount) for line in lines] == [
        (D("3.333"), D("3.33")),
        (D("3.334"), D("6.67")),
        (D("3.333"), D("10.00")),
    ]
    assert volumes(lines) == D("10.000")


def test_it_ignores_versions_effective_on_the_period_edges():
    # A version from the first day applies to all of it; one from the exclusive end does not.
    versions = [
        PriceVersion(date(2024, 3, 1), flat_tiers("2")),
        PriceVersion(date(2024, 4, 1), flat_tiers("9")),
    ]
    lines = bill_period(date(2024, 3, 1), date(2024, 4, 1), D("5"), {}, versions)
    assert lines == [BillLine(1, D("5"), D("2"), D("10.00"), date(2024, 3, 1))]


def test_it_gives_no_lines_for_a_zero_volume_bill():
    lines = bill_period(date(2024, 6, 16), date(2024, 7, 16), D("0"), {}, [V2024, V_JULY])
    assert lines == []


def test_it_rounds_the_period_volume_to_three_places():
    lines = bill_period(date(2024, 3, 1), date(2024, 4, 1), D("1.2345"), {}, [V2024])
    assert volumes(lines) == D("1.235")


@pytest.mark.parametrize(
    ("start", "end"), [(date(2024, 3, 1), date(2024, 3, 1)), (date(2024, 3, 2), date(2024, 3, 1))]
)
def test_it_refuses_an_empty_period(start, end):
    with pytest.raises(TariffError) as caught:
        bill_period(start, end, D("1"), {}, [V2024])
    assert caught.value.code == "empty_period"


def test_it_refuses_a_period_before_any_price_version():
    with pytest.raises(TariffError) as caught:
        bill_period(date(2023, 12, 1), date(2024, 1, 10), D("1"), {}, [V2024])
    assert caught.value.code == "no_price_version"


def test_it_refuses_no_versions():
    with pytest.raises(TariffError) as caught:
        bill_period(date(2024, 3, 1), date(2024, 4, 1), D("1"), {}, [])
    assert caught.value.code == "no_price_version"


def test_it_refuses_two_versions_on_the_same_day():
    twin = PriceVersion(date(2024, 1, 1), DEARER)
    with pytest.raises(TariffError) as caught:
        bill_period(date(2024, 3, 1), date(2024, 4, 1), D("1"), {}, [V2024, twin])
    assert caught.value.code == "duplicate_version"


@pytest.mark.parametrize(("month", "day"), [(2, 29), (13, 1), (4, 31), (0, 1)])
def test_it_refuses_an_invalid_tariff_year_start(month, day):
    with pytest.raises(TariffError) as caught:
        bill_period(
            date(2024, 3, 1),
            date(2024, 4, 1),
            D("1"),
            {},
            [V2024],
            year_start_month=month,
            year_start_day=day,
        )
    assert caught.value.code == "invalid_year_start"


def test_it_refuses_a_negative_prior_use():
    with pytest.raises(TariffError) as caught:
        bill_period(date(2024, 3, 1), date(2024, 4, 1), D("1"), {date(2024, 1, 1): D("-1")}, [V2024])
    assert caught.value.code == "negative_prior_volume"


def test_it_refuses_float_volume_in_a_bill():
    with pytest.raises(ValueError, match="float"):
        bill_period(date(2024, 3, 1), date(2024, 4, 1), 1.5, {}, [V2024])


@st.composite
def periods(draw):
    start = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 1000)))
    end = start + timedelta(days=draw(st.integers(1, 800)))
    changes = draw(st.lists(st.integers(1, 1800), max_size=4, unique=True))
    versions = [PriceVersion(date(2022, 12, 1), draw(ladders()))] + [
        PriceVersion(date(2022, 12, 1) + timedelta(days=n), draw(ladders())) for n in changes
    ]
    return start, end, versions


@settings(max_examples=100)
@given(
    period=periods(),
    volume=volumes_3dp,
    prior=st.integers(0, 2000),
    year_start=st.sampled_from([(1, 1), (7, 1), (11, 15)]),
)
def test_it_keeps_the_total_volume_when_splitting_by_days(period, volume, prior, year_start):
    start, end, versions = period
    month, day = year_start
    lines = bill_period(start, end, volume, lambda _: D(prior), versions, month, day)
    assert volumes(lines) == volume
    assert all(line.volume > 0 for line in lines)


@settings(max_examples=100)
@given(
    tiers=ladders(),
    prior=volumes_3dp,
    volume=volumes_3dp,
    days=st.integers(1, 364),
)
def test_it_bills_a_period_inside_one_year_and_version_like_split_by_tiers(tiers, prior, volume, days):
    version = PriceVersion(date(2024, 1, 1), tiers)
    start = date(2024, 1, 1)
    lines = bill_period(start, start + timedelta(days=days), volume, {start: prior}, [version])
    expected = split_by_tiers(prior, volume, tiers)
    assert [(x.tier, x.volume, x.unit_price, x.amount) for x in lines] == [
        (x.tier, x.volume, x.unit_price, x.amount) for x in expected
    ]


# --- minimum charge -------------------------------------------------------


@pytest.mark.parametrize(
    ("lines_total", "minimum", "expected"),
    [
        ("12.30", "30", D("17.70")),
        ("30.00", "30", D("0.00")),
        ("45.10", "30", D("0.00")),
        ("0", "30", D("30.00")),
        ("12.30", "0", D("0.00")),
    ],
)
def test_it_tops_up_to_the_minimum_charge(lines_total, minimum, expected):
    assert apply_minimum(lines_total, minimum) == expected


def test_it_refuses_a_negative_minimum():
    with pytest.raises(TariffError) as caught:
        apply_minimum("10", "-1")
    assert caught.value.code == "negative_minimum"


# --- apportion_by_days ----------------------------------------------------


def test_it_apportions_by_days():
    days = [date(2024, 6, 16), date(2024, 7, 1), date(2024, 7, 16)]
    assert apportion_by_days(D("60"), days) == [D("30.000"), D("30.000")]


def test_it_apportions_unequal_segments_with_the_remainder_last():
    # 1 + 2 days of 3: cumulative 0.333 then 1.000.
    days = [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 4)]
    assert apportion_by_days(D("1"), days) == [D("0.333"), D("0.667")]


@pytest.mark.parametrize(
    "days",
    [
        [],
        [date(2024, 5, 1)],
        [date(2024, 5, 1), date(2024, 5, 1)],
        [date(2024, 5, 1), date(2024, 5, 3), date(2024, 5, 2)],
    ],
)
def test_it_refuses_boundaries_that_do_not_increase(days):
    with pytest.raises(TariffError) as caught:
        apportion_by_days(D("1"), days)
    assert caught.value.code == "empty_period"


@settings(max_examples=100)
@given(
    volume=volumes_3dp,
    gaps=st.lists(st.integers(1, 400), min_size=1, max_size=6),
)
def test_it_preserves_the_volume_when_apportioning_by_days(volume, gaps):
    days = [date(2024, 1, 1)]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    parts = apportion_by_days(volume, days)
    assert len(parts) == len(gaps)
    assert sum(parts, D("0")) == volume
    assert all(part >= 0 for part in parts)


# --- volume_for_amount: what a prepaid top-up buys ------------------------------------------

BEIJING = (
    Tier(Decimal("350"), Decimal("2.61")),
    Tier(Decimal("500"), Decimal("2.83")),
    Tier(None, Decimal("4.23")),
)


def test_it_buys_gas_within_one_tier():
    assert volume_for_amount(0, Decimal("261.00"), BEIJING) == Decimal("100.000")


def test_it_buys_across_tiers_as_the_worked_example_in_reverse():
    # 300 m³ used before; 272.00 buys 50 m³ at 2.61 and 50 m³ at 2.83.
    assert volume_for_amount(300, Decimal("272.00"), BEIJING) == Decimal("100.000")


def test_it_buys_in_the_top_tier_after_the_lower_ones_are_used():
    assert volume_for_amount(600, Decimal("42.30"), BEIJING) == Decimal("10.000")


def test_it_never_gives_gas_the_money_does_not_cover():
    volume = volume_for_amount(0, Decimal("1.00"), BEIJING)
    assert volume == Decimal("0.383")  # 0.383 × 2.61 = 0.99963 → 1.00; 0.384 would cost 1.00224 → 1.00 too
    assert sum(line.amount for line in split_by_tiers(0, volume, BEIJING)) <= Decimal("1.00")


def test_zero_money_buys_nothing():
    assert volume_for_amount(120, 0, BEIJING) == Decimal("0")


@settings(max_examples=80, deadline=None)
@given(
    prior=st.decimals(min_value=0, max_value=800, places=3),
    amount=st.decimals(min_value=0, max_value=3000, places=2),
)
def test_the_bought_volume_costs_at_most_the_money_and_a_litre_more_would_exceed_it(prior, amount):
    volume = volume_for_amount(prior, amount, BEIJING)
    cost = sum((line.amount for line in split_by_tiers(prior, volume, BEIJING)), Decimal("0"))
    assert cost <= amount
    more = sum(
        (line.amount for line in split_by_tiers(prior, volume + Decimal("0.002"), BEIJING)), Decimal("0")
    )
    assert more > amount - Decimal("0.01")
