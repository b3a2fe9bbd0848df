"""Ledger verification: the cached balance equals the sum of entries, and every entry's
balance_after continues the chain of the one before it."""

from dataclasses import dataclass
from decimal import Decimal

from gasworks.billing.models import Account, LedgerEntry


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    customer_id: int
    problem: str


def verify_ledger(batch: int = 20000) -> tuple[int, list[Discrepancy]]:
    """Check every account; returns (accounts checked, discrepancies). Streams entries in
    (account, pk) order so memory stays flat on a large ledger."""
    problems: list[Discrepancy] = []
    checked = 0
    cached = dict(Account.objects.values_list("pk", "balance"))
    customers = dict(Account.objects.values_list("pk", "customer_id"))
    # Sums are added here in Decimal while walking the chain: SQLite's SUM() works in binary
    # floating point and would report discrepancies of 1e-13 that are not there.
    sums: dict[int, Decimal] = {}
    running: dict[int, Decimal] = {}
    rows = LedgerEntry.objects.order_by("account_id", "pk").values_list(
        "pk", "account_id", "amount", "balance_after"
    )
    for pk, account_id, amount, after in rows.iterator(chunk_size=batch):
        sums[account_id] = sums.get(account_id, Decimal("0.00")) + amount
        expected = running.pop(account_id, Decimal("0.00")) + amount
        if after != expected:
            problems.append(
                Discrepancy(
                    account_id,
                    customers.get(account_id, 0),
                    f"entry #{pk}: balance_after {after} but the chain gives {expected}",
                )
            )
        running = {account_id: after}  # continue from what is stored, report each break once
    for pk, balance in cached.items():
        checked += 1
        total = sums.get(pk, Decimal("0.00"))
        if total != balance:
            problems.append(
                Discrepancy(pk, customers[pk], f"cached balance {balance} but entries sum to {total}")
            )
    return checked, problems
