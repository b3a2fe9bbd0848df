"""What cylinders tells the other apps (gasworks.lib.events; subscribers in gasworks/subscriptions.py)."""

from dataclasses import dataclass
from decimal import Decimal

from gasworks.lib.events import Event


@dataclass(frozen=True)
class LpgOrderDelivered(Event):
    """An LPG order was delivered and charged (on commit)."""

    order_id: int
    customer_id: int
    amount: Decimal | None
