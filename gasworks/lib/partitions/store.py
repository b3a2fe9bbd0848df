"""Monthly range partitions of the history tables on PostgreSQL (readings, ledger entries).

A history table grows by months and is read by months (a billing period, a report's day, an
account's statement): partitioned by its time column, a query for a period reads only that
period's partitions, and old months can be detached (kept as plain tables) without a long
DELETE. SQLite keeps plain tables: every function here does nothing there.

Partitions are local calendar months (settings.TIME_ZONE: billing periods and report days are
local), named ``<table>_pYYYYMM``, contiguous; two edge partitions take any row outside them, so
an insert is never refused: ``<table>_before`` (MINVALUE to the first month) and
``<table>_after`` (after the last month to MAXVALUE). ``ensure_months`` splits the coming
months off ``<table>_after`` (moving any row already there into its month).

Edges rather than a DEFAULT partition (which ``convert`` made at first; the edges' migrations
replace it): with DEFAULT, PostgreSQL cannot read the partitions in order, so a meter's newest
readings probe every month's index instead of stopping at the newest; a month's read often
reads DEFAULT too; and attaching or detaching a month scans DEFAULT.

The apps say which tables are partitioned and whether their old months may be detached
(``register``); the migrations convert them with ``convert``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, migrations, transaction
from django.utils import timezone


@dataclass(frozen=True)
class Partitioned:
    table: str
    column: str
    # Whether old months may leave the table. Never for the ledger: a balance is the sum of all
    # its account's entries.
    detachable: bool
    # Unique rules that cannot include the partition column, kept as a unique index on each
    # partition (columns of each): exact within a month; the writer keeps them across months
    # (the outbox's keys: see gasworks/notifications/store.py).
    local_unique: tuple[tuple[str, ...], ...] = ()


REGISTRY: dict[str, Partitioned] = {}


def register(model, column: str, *, detachable: bool, local_unique: tuple[tuple[str, ...], ...] = ()) -> None:
    table = model._meta.db_table
    REGISTRY[table] = Partitioned(table, column, detachable, local_unique)


def add_local_unique(cursor, partition: str, local_unique: tuple[tuple[str, ...], ...]) -> None:
    """A new partition's own unique indexes (Partitioned.local_unique). PostgreSQL names them: a
    partition made again (an edge split) must not meet the name of its predecessor's index, which
    is still there until the old table, set aside, is dropped."""
    for columns in local_unique:
        cursor.execute(f"CREATE UNIQUE INDEX ON {_q(partition)} ({', '.join(map(_q, columns))})")


def _local_unique(table: str) -> tuple[tuple[str, ...], ...]:
    spec = REGISTRY.get(table)
    return spec.local_unique if spec else ()


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


def months_attached(cursor, table: str) -> list[dt.date]:
    """The months that have a partition of their own, oldest first."""
    months = []
    for name in attached(cursor, table):
        suffix = name.removeprefix(f"{table}_p")
        if suffix != name and suffix.isdigit() and len(suffix) == 6:
            months.append(dt.date(int(suffix[:4]), int(suffix[4:]), 1))
    return sorted(months)


def _range(column: str, low: dt.date | None, high: dt.date | None) -> str:
    """A WHERE clause for ``column`` in [low, high) (None: unbounded on that side)."""
    parts = [
        f"{_q(column)} >= '{_bound(low)}'" if low else "",
        f"{_q(column)} < '{_bound(high)}'" if high else "",
    ]
    return " AND ".join(p for p in parts if p) or "TRUE"


def _edge_bounds(low: dt.date | None, high: dt.date | None) -> str:
    """FOR VALUES of [low, high), None being MINVALUE below and MAXVALUE above."""
    start = f"'{_bound(low)}'" if low else "MINVALUE"
    end = f"'{_bound(high)}'" if high else "MAXVALUE"
    return f"FOR VALUES FROM ({start}) TO ({end})"


def _take_out(cursor, table: str, partition: str) -> str:
    """Detach ``partition`` and rename it aside (its rows are moved from there, then it goes)."""
    aside = f"{partition}__old"
    cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(partition)}")
    cursor.execute(f"ALTER TABLE {_q(partition)} RENAME TO {_q(aside)}")
    return aside


def _partition(cursor, table: str, name: str, bounds: str, rows_from: str | None, where: str) -> None:
    """Partition ``name`` of ``table``, filled with ``rows_from``'s rows matching ``where``. The
    INSERT names the partition, not the parent: no statement trigger of the parent fires (the
    ledger's keys already hold these rows' keys)."""
    if name in detached(cursor, table):
        raise ValueError(f"{name} was detached: attach it again by hand before writing to that month")
    cursor.execute(f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} {bounds}")
    if rows_from:
        cursor.execute(f"INSERT INTO {_q(name)} SELECT * FROM {_q(rows_from)} WHERE {where}")  # noqa: S608
    add_local_unique(cursor, name, _local_unique(table))


def _rebuild(cursor, table: str, column: str, *, edge: str, months: list[dt.date], low, high) -> list[str]:
    """Split the edge partition ``edge`` (``<table>_before`` or ``<table>_after``): ``months``
    get partitions of their own and the edge is made again over [low, high) (None: MINVALUE or
    MAXVALUE), every row of the old edge moved to where it now belongs. The old edge is detached
    first, so the new bounds never overlap it. Returns the months' partition names."""
    aside = _take_out(cursor, table, edge)
    names = []
    for month in months:
        name = partition_name(table, month)
        end = add_months(month, 1)
        _partition(cursor, table, name, _edge_bounds(month, end), aside, _range(column, month, end))
        names.append(name)
    _partition(cursor, table, edge, _edge_bounds(low, high), aside, _range(column, low, high))
    cursor.execute(f"SELECT count(*) FROM {_q(aside)}")  # noqa: S608
    (before,) = cursor.fetchone()
    moved = sum(_count(cursor, name) for name in [*names, edge])
    if moved != before:  # every row of the old edge has a place: never drop one
        raise RuntimeError(f"{edge}: {before} rows, {moved} moved")
    _drop(cursor, aside)
    return names


def _drop(cursor, aside: str) -> None:
    """Drop a partition set aside, its rows having moved. A row written to it earlier in the same
    transaction still has its foreign keys' deferred checks pending, which PostgreSQL will not
    drop a table under: they run now (the moved copies are checked again at commit), then the
    constraints are deferred again, as Django makes them."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute(f"DROP TABLE {_q(aside)}")


def _count(cursor, name: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {_q(name)}")  # noqa: S608
    return cursor.fetchone()[0]


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


# How far back the months of rows waiting in <table>_before get partitions of their own (a
# history imported after the migration lands there): ten years, as generate_data's history.
# Older rows (a mistyped year) stay in the edge, read only by queries that reach back there.
SPLIT_BACK_MONTHS = 120


def _oldest_waiting(cursor, table: str, column: str, today: dt.date) -> dt.date | None:
    """The month of the oldest row in ``<table>_before`` that may have a month of its own: not
    more than SPLIT_BACK_MONTHS back, and after every detached month (a row written to a
    detached month waits there for good)."""
    floor = add_months(month_start(today), -SPLIT_BACK_MONTHS)
    for name in detached(cursor, table):
        suffix = name.removeprefix(f"{table}_p")
        floor = max(floor, add_months(dt.date(int(suffix[:4]), int(suffix[4:]), 1), 1))
    cursor.execute(
        f"SELECT min({_q(column)}) FROM {_q(table + '_before')} WHERE {_range(column, floor, None)}"  # noqa: S608
    )
    (oldest,) = cursor.fetchone()
    return None if oldest is None else month_start(timezone.localtime(oldest).date())


def ensure_months(table: str, column: str, *, ahead: int, today: dt.date) -> list[str]:
    """Partitions for this month and ``ahead`` months after it, and for the months of rows
    waiting in ``<table>_before`` (see _oldest_waiting), split off the edge partitions (rows
    already in those months move out of the edge into them). Months stay contiguous: a month
    below the first is split off ``<table>_before``, one above the last off ``<table>_after``.
    Idempotent; returns the partitions it created."""
    with transaction.atomic(), connection.cursor() as cursor:
        have = months_attached(cursor, table)
        if not have:
            raise RuntimeError(f"{table} has no month partitions: is it converted?")
        first, last = month_start(today), add_months(month_start(today), ahead)
        waiting = _oldest_waiting(cursor, table, column, today)
        first = min(first, waiting) if waiting else first
        created = []
        if first < have[0]:
            created += _rebuild(
                cursor, table, column, edge=f"{table}_before",
                months=_months_between(first, add_months(have[0], -1)), low=None, high=first,
            )  # fmt: skip
        if last > have[-1]:
            created += _rebuild(
                cursor, table, column, edge=f"{table}_after",
                months=_months_between(add_months(have[-1], 1), last), low=add_months(last, 1), high=None,
            )  # fmt: skip
    return sorted(created)


def analyze_month(table: str, month: dt.date) -> None:
    """Refresh the planner's statistics of ``table``'s partition of ``month`` (if it has one):
    for a bulk load that goes on reading the month it is filling (generate_data)."""
    if connection.vendor != "postgresql":
        return
    name = partition_name(table, month_start(month))
    with connection.cursor() as cursor:
        if name in attached(cursor, table):
            cursor.execute(f"ANALYZE {_q(name)}")


def detach_old(table: str, column: str, months: int, *, today: dt.date) -> list[str]:
    """Detach the month partitions that end before the month ``months`` before this one; they
    stay as plain tables (never dropped). ``<table>_before`` is made again to reach the oldest
    month kept, so a row of a detached month written later is still taken (it lands there).
    Returns the detached names."""
    if months < 1:
        raise ValueError("keep at least one month attached")
    oldest_kept = add_months(month_start(today), -months)
    gone = []
    with transaction.atomic(), connection.cursor() as cursor:
        have = months_attached(cursor, table)
        for month in have:
            if month < oldest_kept:
                name = partition_name(table, month)
                cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
                gone.append(name)
        if gone:
            kept = [m for m in have if m >= oldest_kept]
            # Up to the oldest month kept, or (none kept) up to where <table>_after starts.
            high = kept[0] if kept else add_months(have[-1], 1)
            _rebuild(cursor, table, column, edge=f"{table}_before", months=[], low=None, high=high)
    return gone


def replace_default(cursor, table: str, column: str) -> None:
    """The DEFAULT partition (``convert``'s, before edges) becomes two range edges,
    ``<table>_before`` (MINVALUE to the first month) and ``<table>_after`` (after the last month
    to MAXVALUE), each with the DEFAULT rows of its range; a DEFAULT row of a month between
    (none should be) gets its month's partition. Nothing if the table has no DEFAULT partition.
    With a DEFAULT, PostgreSQL cannot read the partitions in order (newest first), often reads
    DEFAULT beside the month asked for, and scans it to attach or detach a month."""
    default = f"{table}_default"
    if default not in attached(cursor, table):
        return
    have = months_attached(cursor, table)
    aside = _take_out(cursor, table, default)
    holes = [m for m in _months_between(have[0], have[-1]) if m not in have]
    for month in holes:
        end = add_months(month, 1)
        _partition(cursor, table, partition_name(table, month), _edge_bounds(month, end), aside,
                   _range(column, month, end))  # fmt: skip
    ends = [(f"{table}_before", None, have[0]), (f"{table}_after", add_months(have[-1], 1), None)]
    for name, low, high in ends:
        _partition(cursor, table, name, _edge_bounds(low, high), aside, _range(column, low, high))
    moved = sum(
        _count(cursor, name) for name in [n for n, *_ in ends] + [partition_name(table, m) for m in holes]
    )
    if moved != _count(cursor, aside):
        raise RuntimeError(f"{default}: rows left behind")
    _drop(cursor, aside)


def restore_default(cursor, table: str) -> None:
    """Back from ``replace_default``: the two edges' rows in one DEFAULT partition again."""
    edges = [name for name in (f"{table}_before", f"{table}_after") if name in attached(cursor, table)]
    if not edges:
        return
    asides = [_take_out(cursor, table, name) for name in edges]
    default = f"{table}_default"
    cursor.execute(f"CREATE TABLE {_q(default)} PARTITION OF {_q(table)} DEFAULT")
    add_local_unique(cursor, default, _local_unique(table))
    for aside in asides:
        cursor.execute(f"INSERT INTO {_q(default)} SELECT * FROM {_q(aside)}")  # noqa: S608
        _drop(cursor, aside)


def edges_instead_of_default(table: str, column: str) -> migrations.RunPython:
    """The step that replaces ``table``'s DEFAULT partition by the two range edges, every row
    kept (``replace_default``), and back; nothing on SQLite."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                replace_default(cursor, table, column)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                restore_default(cursor, table)

    return migrations.RunPython(forward, backward)


@dataclass
class Upkeep:
    table: str
    created: list[str]
    detached_now: list[str]
    detached: list[str]  # every detached month, kept as a table


def maintain(*, ahead: int, detach_older_than: int, today: dt.date) -> list[Upkeep]:
    """For each registered table that is partitioned: the coming months' partitions (split off
    ``<table>_after`` with any rows already there), then, if ``detach_older_than`` > 0 and the table allows it,
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
            gone = detach_old(spec.table, spec.column, detach_older_than, today=today)
        with connection.cursor() as cursor:
            done.append(Upkeep(spec.table, created, gone, detached(cursor, spec.table)))
    return done


def convert(
    cursor, table: str, column: str, *, ahead: int, today: dt.date, skip_unique=(), local_unique=()
) -> None:
    """Turn the plain ``table`` into one partitioned by month on ``column``, keeping every row,
    column, default, check, foreign key and index, and the id sequence. The primary key becomes
    (id, column): PostgreSQL's rule for a partitioned table. A unique constraint must include
    ``column`` too; one that cannot is named in ``skip_unique`` and kept by the caller otherwise,
    or becomes a unique index on each partition (``local_unique``, as register() names them).
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
    for name in attached(cursor, table):
        add_local_unique(cursor, name, local_unique)


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
