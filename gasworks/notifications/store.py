"""The notifications app's SQL: the outbox's bulk insert. A big batch (a billing run's or the
collections run's chunk of notices) goes by COPY into a scratch table and one INSERT ... SELECT
ON CONFLICT DO NOTHING (a key already queued is skipped, as before) on PostgreSQL; a small one,
and any other database, through the ORM's one INSERT."""

import json

from django.db import connection

from gasworks.lib.db import copy_lines, copy_text
from gasworks.notifications.models import Message

# Below this many rows the ORM's single statement is as quick (and a counter payment's receipt
# notice stays one statement: its query budget is pinned).
COPY_FROM = 1_000
COLUMNS = (
    "customer_id",
    "event",
    "channel",
    "key",
    "status",
    "safety",
    "language",
    "variables",
    "address",
    "subject",
    "text",
    "attempts",
    "next_try_at",
    "provider",
    "provider_ref",
    "error",
    "created_at",
)


def _line(message: Message) -> str:
    values = [getattr(message, column) for column in COLUMNS]
    values[COLUMNS.index("variables")] = json.dumps(message.variables, ensure_ascii=False)
    return "\t".join(copy_text(v) for v in values) + "\n"


def insert_messages(rows: list[Message]) -> None:
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        return
    table, names = Message._meta.db_table, ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE outbox_load AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608 - model table, constants
        copy_lines(connection, "outbox_load", COLUMNS, [_line(m) for m in rows])
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM outbox_load ON CONFLICT DO NOTHING")  # noqa: S608
        cursor.execute("DROP TABLE outbox_load")  # a failure above rolls its creation back too
