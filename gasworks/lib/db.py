"""Database helpers: Decimal sums that are exact on every backend, and a lookup for long lists.

SQLite stores DecimalField values as binary floats and its SUM() adds them as floats, so a
ledger that balances to 0.00 can sum to 2.3e-13 there. DecimalSum adds in Python's Decimal on
SQLite (an aggregate registered on each connection) and is a plain SUM elsewhere. Use it for
DecimalFields only."""

import datetime as dt
import json
from decimal import Decimal

from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import CharField, ForeignKey, IntegerField, Lookup, Sum


class _DecimalSumAggregate:
    def __init__(self):
        self.total = None

    def step(self, value):
        if value is not None:
            # repr() of a float stored from a 2- or 3-place decimal gives back those places.
            self.total = (self.total or Decimal(0)) + Decimal(
                repr(value) if isinstance(value, float) else str(value)
            )

    def finalize(self):
        # One float conversion of the exact total; Django's decimal converter quantizes it back
        # to the field's places, which is exact (the error of a single conversion is < 1e-15).
        return None if self.total is None else float(self.total)


def _register(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("DECIMAL_SUM", 1, _DecimalSumAggregate)


connection_created.connect(_register, dispatch_uid="gasworks.lib.db.decimal_sum")


class DecimalSum(Sum):
    """Sum() that is exact for DecimalFields on SQLite too."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="DECIMAL_SUM", **extra_context)

    def get_db_converters(self, connection):
        converters = super().get_db_converters(connection)
        places = getattr(self.output_field, "decimal_places", None)
        if connection.vendor == "sqlite" and places is not None:
            # SQLite hands back a float; give it the field's places again (3.50, not 3.5000000).
            step = Decimal(1).scaleb(-places)
            converters.append(
                lambda value, expression, conn: value if value is None else value.quantize(step)
            )
        return converters


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def copy_text(value) -> str:
    """One value in PostgreSQL COPY text format (NULL, escaped text, t/f, str() of the rest)."""
    if value is None:
        return COPY_NULL
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def copy_line(values) -> str:
    """A row of values as one COPY text line: copy_text of each (the same tests, a str subclass
    such as a TextChoices member escaped too), inlined (no call per value), for rows by the
    million (generated payments: 20 values a row)."""
    return (
        "\t".join(
            [
                COPY_NULL
                if v is None
                else v.translate(_COPY_ESCAPES)
                if isinstance(v, str)
                else ("t" if v else "f")
                if isinstance(v, bool)
                else str(v)
                for v in values
            ]
        )
        + "\n"
    )


def array_literal(values) -> str:
    """Ints, Decimals or aware datetimes as one PostgreSQL array literal (no element needs
    quoting): psycopg adapts a list value by value in Python, which for 20,000 values costs far
    more than this string and the server's cast."""
    return "{" + ",".join(v.isoformat() if isinstance(v, dt.datetime) else str(v) for v in values) + "}"


class AnyOf(Lookup):
    """``field__any=[...]``: the field equals one of many values, bound as ONE parameter.

    ``__in`` binds one placeholder per value: with tens of thousands of values (a meter-reading
    file, a route) Django and psycopg spend a second building and quoting the statement, and
    SQLite refuses more than 32,766 variables. Here PostgreSQL gets ``= ANY(%s::type[])`` with
    an array literal built in one pass, and SQLite ``IN (SELECT value FROM json_each(%s))`` with
    a JSON list. For integers and strings (registered on IntegerField, ForeignKey, CharField)."""

    lookup_name = "any"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [list(value)])

    def _strings(self) -> bool:
        field = self.lhs.output_field
        return isinstance(getattr(field, "target_field", field), CharField)  # a key: its target

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, (values,) = self.process_rhs(compiler, connection)
        if self._strings():
            literal = ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
            return f"{lhs} = ANY(%s::text[])", [*lhs_params, "{" + literal + "}"]
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, array_literal(map(int, values))]

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _rhs, (values,) = self.process_rhs(compiler, connection)
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - lhs is a compiled column
        return sql, [*lhs_params, json.dumps(values)]


for _field in (IntegerField, CharField, ForeignKey):
    _field.register_lookup(AnyOf)


def copy_lines(connection, table: str, columns, lines: list[str], batch: int = 2000) -> None:
    """COPY rows already formatted as COPY text lines (copy_text, tab-separated, newline-ended)
    into ``table`` (PostgreSQL): the bulk path of the billing run and the ledger."""
    if not lines:
        return
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for start in range(0, len(lines), batch):
            copy.write("".join(lines[start : start + batch]))


def next_ids(table: str, count: int) -> list[int]:
    """``count`` fresh ids from ``table``'s id sequence (PostgreSQL), for rows written by COPY.
    The sequence is named in the statement as a constant: given as pg_get_serial_sequence(...),
    the lookup ran once per id (nextval is volatile), ten times the cost of the ids themselves."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        literal = sequence.replace("'", "''")
        cursor.execute(f"SELECT nextval('{literal}'::regclass) FROM generate_series(1, %s)", [count])  # noqa: S608 - a catalogue name
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(connection, table: str, columns, rows) -> None:
    """COPY Python tuples into ``table`` (PostgreSQL), psycopg adapting each value: for generated
    data, where the rows are not on a hot path."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def analyze(*models) -> None:
    """Refresh the planner's statistics of the models' tables (PostgreSQL; nothing elsewhere).
    For bulk loads that go on querying what they wrote (generate_data's year of history):
    autovacuum's analyze comes too late, and a plan made for an empty table walks the full one."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def bulk_load_session() -> None:
    """This connection's commits stop waiting for the WAL flush (PostgreSQL; nothing elsewhere):
    for generate_data's bulk loads, dozens of large commits a month of history. A crash may lose
    the last few commits, never corrupt anything: the data is generated again."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")


def vacuum_analyze() -> None:
    """VACUUM ANALYZE the whole database (PostgreSQL, outside any transaction): after a bulk
    load, the statistics and visibility maps autovacuum would make in time, now (benchmarks
    measure the steady state, and autovacuum may be off)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def insert_select(model, columns: list[str], queryset) -> int:
    """INSERT INTO the model's table (columns) the rows of ``queryset`` (a values_list() naming
    exactly those columns, in that order): one statement that never brings the rows into
    Python, on every backend (a rollup's full rebuild). Returns the rows inserted."""
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) {sql}", params
        )
        return cursor.rowcount


def icontains_trigram_indexes(indexes: dict[str, tuple[str, str]]):
    """A migration operation: on PostgreSQL, GIN trigram indexes {name: (table, column)} that
    serve Django's icontains (UPPER(col::text) LIKE UPPER('%q%'), which no b-tree serves);
    nothing elsewhere (SQLite scans; fine at a station's size)."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in indexes.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name in indexes:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(forwards, backwards)
