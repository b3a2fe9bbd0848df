"""Percentiles by one rule everywhere: linear interpolation between the closest ranks, the rule of
PostgreSQL's ``percentile_cont`` (and numpy's default). For q in [0, 1] over n sorted values the
position is (n − 1)·q; between the values at floor and ceil of it the result is interpolated.
Computed in Python over the durations, so SQLite and PostgreSQL give the same answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal


def _at_position(value_at, n: int, q: Decimal) -> Decimal:
    position = (n - 1) * q
    low = int(position)  # floor: position is never negative
    high = min(low + 1, n - 1)
    fraction = position - low
    below, above = Decimal(value_at(low)), Decimal(value_at(high))
    return below + (above - below) * fraction


def percentile(values: Sequence, q: Decimal | str) -> Decimal | None:
    """The q-quantile (q = 0.5 is the median, 0.9 the p90) of values; None when there are none."""
    q = Decimal(q)
    if not values:
        return None
    ordered = sorted(values)
    return _at_position(ordered.__getitem__, len(ordered), q)


def percentile_of_counts(counts: Mapping[int, int], q: Decimal | str) -> Decimal | None:
    """The same rule over a histogram {value: how many} (whole days from a rollup), without
    expanding it."""
    q = Decimal(q)
    items = sorted((value, n) for value, n in counts.items() if n > 0)
    total = sum(n for _value, n in items)
    if not total:
        return None

    def value_at(index: int) -> int:
        seen = 0
        for value, n in items:
            seen += n
            if index < seen:
                return value
        raise IndexError(index)

    return _at_position(value_at, total, q)
