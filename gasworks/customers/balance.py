"""The customer's balance as other apps define it. Customers knows nothing of billing: it asks
(gasworks.customers.events), and billing answers (gasworks/subscriptions.py)."""

from decimal import Decimal

from gasworks.customers.events import BalanceOf, LedgerEntriesOf
from gasworks.lib.events import ask_one


def balance_of(customer) -> Decimal:
    return ask_one(BalanceOf(customer), Decimal("0.00"))


def ledger_entries_of(customer) -> list[dict]:
    """[{"id", "kind", "amount", "created_at", "reference"}], oldest first."""
    return ask_one(LedgerEntriesOf(customer), [])
