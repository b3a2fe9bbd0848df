"""Ids from outside (query strings, form fields): a positive whole number that fits the widest id
column (a 64-bit signed integer on PostgreSQL and SQLite), or nothing.

A longer run of digits is not an id: SQLite cannot even bind it (OverflowError, a 500), and
PostgreSQL would compare a bigint column with a numeric. Parse here and say so, instead.
"""

MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """``raw`` as an id, or None when it is not one (empty, not digits, 0, too large)."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
