"""The schedule of an arrangement, pure (no database): the debt less the down payment spread over
N instalments to the fen, and their dates.

Remainder rule: each instalment is the rest divided by N rounded down to the fen; the fen left
over (fewer than N) go one each to the first instalments, so amounts differ by at most 0.01 and
the debt is cleared a little sooner rather than later. Monthly dates keep first_due_on's day,
or the month's last day when it is shorter (31 January, 28/29 February, 31 March)."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

from dateutil.relativedelta import relativedelta

FEN = Decimal("0.01")


def split(rest: Decimal, count: int) -> list[Decimal]:
    """``rest`` (to the fen, > 0) in ``count`` amounts that sum to it exactly."""
    if count < 1:
        raise ValueError("count must be at least 1")
    fen = int((rest / FEN).to_integral_exact())
    base, extra = divmod(fen, count)
    return [(Decimal(base + (1 if i < extra else 0)) * FEN).quantize(FEN) for i in range(count)]


def monthly(first: date, count: int) -> list[date]:
    return [first + relativedelta(months=i) for i in range(count)]


def increasing(days: list[date]) -> bool:
    return all(a < b for a, b in pairwise(days))
