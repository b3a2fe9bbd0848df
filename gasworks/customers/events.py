"""What other apps are asked about a customer (gasworks.lib.events; answerers in
gasworks/subscriptions.py). Customers knows nothing of billing, so billing answers these."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gasworks.lib.events import Question


@dataclass(frozen=True)
class BalanceOf(Question[Decimal]):
    """The customer's balance (synchronous: the page or API response shows it)."""

    customer: Any


@dataclass(frozen=True)
class LedgerEntriesOf(Question[list[dict[str, Any]]]):
    """The customer's ledger entries, oldest first: [{"id", "kind", "amount", "created_at",
    "reference"}] (synchronous, for the API's statement)."""

    customer: Any
