"""What payment arrangements tell the other apps (gasworks.lib.events; the notification outbox
writes its rows inside the publisher's transaction, wired in gasworks/subscriptions.py WRITERS)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gasworks.lib.events import Event


@dataclass(frozen=True)
class InstalmentDue(Event):
    """An instalment falls due soon and is not met yet (the daily run; once per instalment)."""

    instalment_id: int
    customer_id: int
    amount: Decimal  # what is still owed on it
    due_on: date


@dataclass(frozen=True)
class ArrangementEnded(Event):
    """An arrangement ended before it was paid off: missed, or cancelled by the station. The
    debt left goes back to the normal rules (late fees, the collections ladder)."""

    arrangement_id: int
    customer_id: int
    reason: str
    left: Decimal
