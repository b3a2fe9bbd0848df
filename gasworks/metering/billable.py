"""Billable volume, defined once.

A reading counts towards a bill when its status is billable (accepted, approved after review, or
estimated; flagged and rejected readings wait for a person or never count), and it counts with
its volume at base conditions when the meter corrects, else its measured consumption, else
nothing: ``coalesce(corrected_consumption, consumption, 0)``. Rollovers and meter replacements
are already inside ``consumption`` (VEE measures each reading against the meter's previous
billable one), so the volume of a period is the plain sum over its readings, whatever meters
they came from.

The rule has three spellings because three kinds of code need it: ``volume`` for Python loops
(the billing run's chunk read on SQLite), ``VOLUME`` for ORM aggregates (metering's figures) and
``VOLUME_SQL`` for the billing run's set-based read on PostgreSQL (billing/store.py). They are
kept side by side here, and tests/billing/test_billable_volume.py checks on random histories that
all paths agree to the litre.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import DecimalField, QuerySet, Value
from django.db.models.functions import Coalesce

from gasworks.metering.models import BILLABLE_STATUSES, Reading

ZERO = Decimal("0.000")
STATUSES = tuple(str(s) for s in BILLABLE_STATUSES)

# The ORM spelling (an expression over a Reading row).
VOLUME = Coalesce(
    "corrected_consumption",
    "consumption",
    Value(ZERO),
    output_field=DecimalField(max_digits=14, decimal_places=3),
)
# The SQL spelling, over a reading row aliased ``{r}``.
VOLUME_SQL = "coalesce({r}.corrected_consumption, {r}.consumption, 0)"


def volume(consumption: Decimal | None, corrected: Decimal | None) -> Decimal:
    """The Python spelling: one reading's billable volume (its status already checked)."""
    if corrected is not None:
        return corrected
    return consumption if consumption is not None else ZERO


def is_billable(status: str) -> bool:
    return status in STATUSES


def readings(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The billable readings taken in [start, end)."""
    return Reading.objects.filter(taken_at__gte=start, taken_at__lt=end, status__in=STATUSES)
