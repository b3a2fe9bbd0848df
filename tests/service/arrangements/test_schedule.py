"""The schedule's arithmetic, pure: the amounts sum to the debt to the fen, whatever it is."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gasworks.service.arrangements import schedule


@given(fen=st.integers(min_value=1, max_value=10**10), count=st.integers(min_value=1, max_value=60))
def test_it_splits_to_the_fen_with_the_extra_fen_first(fen, count):
    rest = Decimal(fen).scaleb(-2)
    parts = schedule.split(rest, count)
    assert len(parts) == count
    assert sum(parts, Decimal(0)) == rest
    assert all(p.as_tuple().exponent == -2 for p in parts)
    assert max(parts) - min(parts) <= Decimal("0.01")
    assert parts == sorted(parts, reverse=True)  # the remainder's fen go to the first ones


def test_it_places_the_remainder_on_the_first_instalments():
    assert schedule.split(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert schedule.split(Decimal("0.02"), 3) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]


def test_it_keeps_the_day_of_month_or_the_last_day():
    assert schedule.monthly(date(2026, 12, 31), 4) == [
        date(2026, 12, 31),
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


@pytest.mark.parametrize(
    ("days", "ok"),
    [
        ([date(2026, 1, 1)], True),
        ([date(2026, 1, 1), date(2026, 2, 1)], True),
        ([date(2026, 1, 1), date(2026, 1, 1)], False),
        ([date(2026, 2, 1), date(2026, 1, 1)], False),
    ],
)
def test_it_checks_dates_increase(days, ok):
    assert schedule.increasing(days) is ok
