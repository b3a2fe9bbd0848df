"""What payments tells the other apps, and what it asks them (gasworks.lib.events; subscribers
and answerers in gasworks/subscriptions.py).

Events (PaymentReceived, PaymentRefunded) are delivered on commit. Questions are answered
synchronously: the counter needs the answer to show the page or load the card."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gasworks.lib.events import Event, Question


@dataclass(frozen=True)
class PaymentReceived(Event):
    """Money arrived and was posted to the ledger: counter, online gateway or bank statement."""

    payment_id: int
    customer_id: int
    amount: Decimal
    method: str
    purpose: str = "account"
    # Carried so that the receipt notice's writer costs the counter no lookup. The receipt
    # number is not: it is given last in the transaction (the station's counter is a lock).
    paid_at: dt.datetime | None = None


@dataclass(frozen=True)
class PaymentRefunded(Event):
    """A refund was carried out and its money posted (done, not merely requested)."""

    refund_id: int
    payment_id: int
    customer_id: int
    amount: Decimal


@dataclass(frozen=True)
class DueLines(Question[list[dict[str, Any]]]):
    """What the customer owes, line by line, for the counter: each answer is a list of
    {"label", "amount", "due_on"} (billing answers with unpaid bills and late fees)."""

    customer: Any


@dataclass(frozen=True)
class VolumeForAmount(Question[tuple[Decimal | None, str]]):
    """How much gas an IC-card top-up of ``amount`` buys at ``at`` given ``loaded`` m³ already
    loaded this year: (volume m³ or None, note). Billing answers from its tariffs."""

    customer: Any
    amount: Decimal
    at: dt.datetime
    loaded: Decimal
