"""Monthly range partitions of history tables on PostgreSQL (readings, ledger entries); the SQL
is in store.py (the house rule: SQL lives in stores and lib/db.py only)."""

from gasworks.lib.partitions.store import (
    REGISTRY,
    Partitioned,
    Upkeep,
    add_months,
    analyze_month,
    attached,
    convert,
    detach_old,
    detached,
    ensure_months,
    is_partitioned,
    maintain,
    month_start,
    partition_name,
    register,
    unconvert,
)

__all__ = [
    "REGISTRY",
    "Partitioned",
    "Upkeep",
    "add_months",
    "analyze_month",
    "attached",
    "convert",
    "detach_old",
    "detached",
    "ensure_months",
    "is_partitioned",
    "maintain",
    "month_start",
    "partition_name",
    "register",
    "unconvert",
]
