"""The notifications app's SQL: settling a round's outcomes in one statement. Nothing else in
notifications opens a cursor or asks which database it is on.

Django's bulk_update builds a CASE per field and row, and compiling it cost more than sending the
messages (6 s for 500 rows); here PostgreSQL takes the values as arrays (UPDATE ... FROM unnest),
and SQLite (development, tests) a plain executemany."""

from collections.abc import Sequence

from django.db import connection

from gasworks.notifications.models import Message, MessageStatus

FIELDS = ("status", "sent_at", "provider_ref", "error", "next_try_at", "subject", "text")
TYPES = ("text", "timestamptz", "text", "text", "timestamptz", "text", "text")


def settle_rows(messages: Sequence[Message]) -> None:
    """Write each message's outcome fields where its row is still `sending` (one settled
    meanwhile by recover() or another sender keeps its own)."""
    if not messages:
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = [[m.pk for m in messages]] + [[getattr(m, f) for m in messages] for f in FIELDS]
            arrays = ", ".join(f"%s::{kind}[]" for kind in ("bigint", *TYPES))
            sets = ", ".join(f"{f} = v.{f}" for f in FIELDS)
            cursor.execute(
                f"UPDATE {table} AS m SET {sets} FROM unnest({arrays}) AS v(id, {', '.join(FIELDS)})"  # noqa: S608 (model names)
                " WHERE m.id = v.id AND m.status = %s",
                [*columns, MessageStatus.SENDING],
            )
        else:
            sets = ", ".join(f"{f} = %s" for f in FIELDS)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE id = %s AND status = %s",  # noqa: S608 (model names)
                [[*(getattr(m, f) for f in FIELDS), m.pk, MessageStatus.SENDING] for m in messages],
            )
