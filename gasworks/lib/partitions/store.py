"""Monthly range partitions of the history tables on PostgreSQL (readings, ledger entries).

A history table grows by months and is read by months (a billing period, a report's day, an
account's statement): partitioned by its time column, a query for a period reads only that
period's partitions, and old months can be detached (kept as plain tables) without a long
DELETE. SQLite keeps plain tables: every function here does nothing there.

Partitions are local calendar months (settings.TIME_ZONE: billing periods and report days are
local), named ``<table>_pYYYYMM``; a DEFAULT partition ``<table>_default`` takes a row of a month
that has no partition yet, so an insert is never refused. ``ensure_months`` creates the coming
months and moves any DEFAULT row into the partition of its month.

The apps say which tables are partitioned and whether their old months may be detached
(``register``); the migrations convert them with ``convert``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction


@dataclass(frozen=True)
class Partitioned:
    table: str
    column: str
    # Whether old months may leave the table. Never for the ledger: a balance is the sum of all
    # its account's entries.
    detachable: bool


REGISTRY: dict[str, Partitioned] = {}


def register(model, column: str, *, detachable: bool) -> None:
    table = model._meta.db_table
    REGISTRY[table] = Partitioned(table, column, detachable)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y%m}"


def _bound(month: dt.date) -> str:
    """The month's first instant in the station's time zone, as a timestamptz literal."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start.isoformat()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def is_partitioned(cursor, table: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
        " WHERE c.relname = %s AND c.relnamespace = 'public'::regnamespace",
        [table],
    )
    return cursor.fetchone() is not None


def attached(cursor, table: str) -> list[str]:
    """The table's partitions, by name (the DEFAULT one included)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def detached(cursor, table: str) -> list[str]:
    """Month tables of ``table`` that are no longer its partitions (detached, kept)."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relname ~ %s"
        " AND c.relnamespace = 'public'::regnamespace AND NOT c.relispartition ORDER BY c.relname",
        [f"^{table}_p[0-9]{{6}}$"],
    )
    return [name for (name,) in cursor.fetchall()]


def _months_in(cursor, table: str, column: str) -> list[dt.date]:
    """The local months that rows of ``table`` fall in."""
    cursor.execute(
        f"SELECT DISTINCT (date_trunc('month', {_q(column)} AT TIME ZONE %s))::date FROM {_q(table)}",  # noqa: S608
        [settings.TIME_ZONE],
    )
    return sorted(month for (month,) in cursor.fetchall())


def _create_month(cursor, table: str, column: str, month: dt.date) -> bool:
    """Make ``month``'s partition of ``table`` unless it exists; rows of that month waiting in
    the DEFAULT partition move into it first (PostgreSQL refuses a partition whose rows sit in
    DEFAULT). True if it was created."""
    name = partition_name(table, month)
    if name in attached(cursor, table):
        return False
    if name in detached(cursor, table):
        raise ValueError(f"{name} was detached: attach it again by hand before writing to that month")
    low, high = _bound(month), _bound(add_months(month, 1))
    default = f"{table}_default"
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s)",  # noqa: S608
        [low, high],
    )
    (waiting,) = cursor.fetchone()
    bounds = f"FOR VALUES FROM ('{low}') TO ('{high}')"
    if not waiting:
        cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} {bounds}")
        return True
    # A plain table first, filled from DEFAULT, then attached: the attach checks both its rows and
    # what is left in DEFAULT. The DELETE names the DEFAULT partition and the INSERT a table not
    # yet attached, so no statement trigger of the parent fires: the ledger's keys stay put.
    cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {_q(default)} WHERE {_q(column)} >= %s AND {_q(column)} < %s"  # noqa: S608
        f" RETURNING *) INSERT INTO {_q(name)} SELECT * FROM moved",
        [low, high],
    )
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} {bounds}")
    return True


def ensure_months(table: str, column: str, *, ahead: int, today: dt.date) -> list[str]:
    """Partitions for this month and ``ahead`` months after it, and for every month whose rows
    wait in DEFAULT (moved into it). Idempotent; returns the partitions it created."""
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        first = month_start(today)
        months = {add_months(first, n) for n in range(ahead + 1)}
        months.update(_months_in(cursor, f"{table}_default", column))
        for month in sorted(months):
            if _create_month(cursor, table, column, month):
                created.append(partition_name(table, month))
    return created


def analyze_month(table: str, month: dt.date) -> None:
    """Refresh the planner's statistics of ``table``'s partition of ``month`` (if it has one):
    for a bulk load that goes on reading the month it is filling (generate_data)."""
    if connection.vendor != "postgresql":
        return
    name = partition_name(table, month_start(month))
    with connection.cursor() as cursor:
        if name in attached(cursor, table):
            cursor.execute(f"ANALYZE {_q(name)}")


def detach_old(table: str, months: int, *, today: dt.date) -> list[str]:
    """Detach the month partitions that end before the month ``months`` before this one; they
    stay as plain tables (never dropped). Returns the detached names."""
    if months < 1:
        raise ValueError("keep at least one month attached")
    oldest_kept = add_months(month_start(today), -months)
    gone = []
    with transaction.atomic(), connection.cursor() as cursor:
        for name in attached(cursor, table):
            suffix = name.removeprefix(f"{table}_p")
            if not (suffix.isdigit() and len(suffix) == 6):
                continue  # the DEFAULT partition stays
            if dt.date(int(suffix[:4]), int(suffix[4:]), 1) < oldest_kept:
                cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
                gone.append(name)
    return gone


@dataclass
class Upkeep:
    table: str
    created: list[str]
    detached_now: list[str]
    detached: list[str]  # every detached month, kept as a table


def maintain(*, ahead: int, detach_older_than: int, today: dt.date) -> list[Upkeep]:
    """For each registered table that is partitioned: the coming months' partitions (and any
    DEFAULT row moved to its month), then, if ``detach_older_than`` > 0 and the table allows it,
    its months older than that many months detached. Nothing on SQLite."""
    if connection.vendor != "postgresql":
        return []
    done = []
    for spec in REGISTRY.values():
        with connection.cursor() as cursor:
            if not is_partitioned(cursor, spec.table):
                continue
        created = ensure_months(spec.table, spec.column, ahead=ahead, today=today)
        gone = []
        if detach_older_than > 0 and spec.detachable:
            gone = detach_old(spec.table, detach_older_than, today=today)
        with connection.cursor() as cursor:
            done.append(Upkeep(spec.table, created, gone, detached(cursor, spec.table)))
    return done


def convert(cursor, table: str, column: str, *, ahead: int, today: dt.date, skip_unique=()) -> None:
    """Turn the plain ``table`` into one partitioned by month on ``column``, keeping every row,
    column, default, check, foreign key and index, and the id sequence. The primary key becomes
    (id, column): PostgreSQL's rule for a partitioned table. A unique constraint must include
    ``column`` too; one that cannot is named in ``skip_unique`` and kept by the caller otherwise.
    Nothing may reference the table by a foreign key (none can reference (id) alone any more):
    the referencing fields are db_constraint=False before this runs."""
    cursor.execute(
        "SELECT conname, conrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass",
        [table],
    )
    referencing = cursor.fetchall()
    if referencing:
        raise RuntimeError(f"foreign keys reference {table}: {referencing}; make them db_constraint=False")
    constraints, indexes = _definitions(cursor, table)
    months = _months_in(cursor, table, column) or [month_start(today)]
    first = min(months[0], month_start(today))
    last = max(months[-1], add_months(month_start(today), ahead))

    new = f"{table}__partitioned"
    cursor.execute(
        f"CREATE TABLE {_q(new)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        f" INCLUDING IDENTITY) PARTITION BY RANGE ({_q(column)})"
    )
    month = first
    while month <= last:
        cursor.execute(
            f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(new)}"
            f" FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(add_months(month, 1))}')"
        )
        month = add_months(month, 1)
    cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(new)} DEFAULT")
    # Rows copied before any index exists: one sort per index afterwards, not one insert each.
    _copy_rows(cursor, table, new)
    _swap(cursor, table, new)
    for name, kind, definition in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY (id, {_q(column)})"
        elif kind == "u" and name in skip_unique:
            continue
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for sql in indexes:
        cursor.execute(sql)


def unconvert(cursor, table: str, column: str) -> None:
    """Back from ``convert``: one plain table with every row of every attached partition, the
    primary key on id alone again. Refused while detached months exist (their rows would be lost
    to the table without a word)."""
    if gone := detached(cursor, table):
        raise RuntimeError(f"attach {', '.join(gone)} to {table} again first")
    constraints, indexes = _definitions(cursor, table)
    plain = f"{table}__plain"
    cursor.execute(
        f"CREATE TABLE {_q(plain)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
    )
    _copy_rows(cursor, table, plain)
    _swap(cursor, table, plain)
    for name, kind, definition in constraints:
        if kind == "p":
            definition = "PRIMARY KEY (id)"
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for sql in indexes:
        cursor.execute(sql.replace(" ON ONLY ", " ON ", 1))


def _definitions(cursor, table: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The table's primary key, unique and foreign key constraints (name, kind, definition), and
    the CREATE INDEX statements of its other indexes: what a rebuilt table must get back."""
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid), conindid FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype, conname",
        [table],
    )
    rows = cursor.fetchall()
    cursor.execute(
        "SELECT indexrelid, pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
        [table],
    )
    backing = {index for *_, index in rows}
    indexes = [sql for oid, sql in cursor.fetchall() if oid not in backing]
    return [(name, kind, definition) for name, kind, definition, _ in rows], indexes


def _copy_rows(cursor, source: str, target: str) -> None:
    """Every row of ``source`` into ``target`` (same columns, same order: made LIKE it), and the
    target's id sequence set after the highest id."""
    cursor.execute(f"INSERT INTO {_q(target)} OVERRIDING SYSTEM VALUE SELECT * FROM {_q(source)}")  # noqa: S608
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {_q(source)}",  # noqa: S608
        [target],
    )


def _swap(cursor, table: str, new: str) -> None:
    """Drop ``table`` and give its name (and its sequence's) to ``new``."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [new])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"DROP TABLE {_q(table)}")
    cursor.execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(table)}")
    cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {_q(table + '_id_seq')}")
