"""What metering tells the other apps (gasworks.lib.events; subscribers in gasworks/subscriptions.py).

Both are delivered on commit of the transaction that stored the readings. They carry batches:
one event per stored batch (a device post, an import chunk), not per reading, so a million-row
import queues one callback per chunk, not a million."""

import datetime as dt
from dataclasses import dataclass

from gasworks.lib.events import Event


@dataclass(frozen=True)
class ReadingsStored(Event):
    """Readings were stored for these customers (sorted ids, no duplicates); billing charges
    prepaid accounts from them."""

    customer_ids: tuple[int, ...]


@dataclass(frozen=True)
class FlaggedReading:
    meter_id: int
    customer_id: int | None
    taken_at: dt.datetime
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ReadingsFlagged(Event):
    """Validation (VEE) flagged these readings: kept, not billed until a person decides."""

    readings: tuple[FlaggedReading, ...]


def stored(customer_ids) -> ReadingsStored | None:
    """The event for a stored batch, or None when it bills nobody."""
    ids = tuple(sorted({cid for cid in customer_ids if cid is not None}))
    return ReadingsStored(ids) if ids else None
