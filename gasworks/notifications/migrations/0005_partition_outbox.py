"""The outbox (notifications_message) becomes a table partitioned by month of created_at on
PostgreSQL (SQLite keeps the plain table), with every row, column, check and index; the primary
key becomes (id, created_at).

One message per customer and key (event, its reference, the channel) cannot be a unique index of a
partitioned table without created_at. It stays exact:
- within a month, a unique index (customer_id, key) on each partition, which the writers'
  ON CONFLICT DO NOTHING uses (a second copy of a key in its month is skipped);
- across months, enqueue()'s insert skips a key any partition already holds (NOT EXISTS over
  every partition's unique index). A billing run's notices need no such look: a bill is issued
  once (one per account and period) and its notices are written in its own transaction.
Months detached (partitions_keep_months) take their keys with them: an event that old is never
told again."""

from django.db import migrations
from django.utils import timezone

from gasworks.lib import partitions

TABLE, COLUMN = "notifications_message", "created_at"
UNIQUE = "message_customer_key_unique"
LOCAL_UNIQUE = (("customer_id", "key"),)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.convert(
            cursor, TABLE, COLUMN, ahead=3, today=timezone.localdate(), skip_unique=(UNIQUE,),
            local_unique=LOCAL_UNIQUE,
        )  # fmt: skip
        partitions.replace_default(cursor, TABLE, COLUMN)  # range edges, as readings' and the ledger's


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        partitions.restore_default(cursor, TABLE)
        partitions.unconvert(cursor, TABLE, COLUMN)
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {UNIQUE} UNIQUE (customer_id, key)")


class Migration(migrations.Migration):
    dependencies = [("notifications", "0004_message_customer_key")]

    operations = [migrations.RunPython(forward, backward)]
