"""The customer's balance as other apps define it. Customers know nothing of billing, so the
ledger app registers the function that answers (design.md: dependencies point one way)."""

from collections.abc import Callable
from decimal import Decimal

_balance: Callable[[object], Decimal] | None = None
_entries: Callable[[object], list[dict]] | None = None


def register_provider(balance: Callable[[object], Decimal], entries: Callable[[object], list[dict]]) -> None:
    global _balance, _entries
    _balance, _entries = balance, entries


def balance_of(customer) -> Decimal:
    return _balance(customer) if _balance else Decimal("0.00")


def ledger_entries_of(customer) -> list[dict]:
    """[{"id", "kind", "amount", "created_at", "reference"}], oldest first (api.md)."""
    return _entries(customer) if _entries else []
